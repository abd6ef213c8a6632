// What every section shares: one fresh PostgreSQL database (migrated, the demo seed), seeded users
// and sessions (seed.ts), the template token, and how to make cookies for seeded sessions.
import { startWorkers, type Worker } from "./pool";
import { benchTenant, cookieMaker, latestSeq, seedSessions, seedUsers, sessionIdOf, templateData, userIdOf } from "./seed";
import type { WorkerInit } from "./worker";

/** An issuer nobody calls: sections 1-3, 5-6 read sessions without OAuth tokens. */
export const NO_ISSUER = "http://127.0.0.1:9/unused-issuer";

export interface Context {
  url: string;
  tenantId: string;
  /** The template sign-in's token (user b0). */
  template: Record<string, unknown>;
  /** Sessions 1..seeded exist (user b<i>, session sessionIdOf(i)). */
  seeded: number;
  /** The session id of seeded session `i`. */
  sessionId(i: number): string;
  /** Seed users and sessions up to `n` (both numbered 1..n). */
  ensureSessions(n: number): Promise<void>;
  /** A cookie maker for seeded sessions, as if signed in at `at` (seconds; default now) at the log's current position. */
  cookies(at?: number): Promise<(i: number) => Promise<string>>;
  workers(n: number, init?: Partial<WorkerInit>, options?: { gc?: boolean }): Promise<{ workers: Worker[]; close: () => Promise<void> }>;
}

export async function createContext(url: string, log: (line: string) => void): Promise<Context> {
  const tenantId = await benchTenant(url);
  await seedUsers(url, tenantId, 0, 1);
  // The template: user b0 signed in through the kit's jwt() in a worker (its session row, its server data).
  const { workers, close } = await startWorkers(1, { url, issuer: NO_ISSUER });
  let template: Record<string, unknown>;
  try {
    template = await workers[0]!.call<Record<string, unknown>>("signIn", { userId: userIdOf(0), email: `${userIdOf(0)}@bench.example`, name: "Bench User" });
  } finally {
    await close();
  }
  const templateSid = (template._k as { sid: string }).sid;
  const data = await templateData(url, templateSid);
  const ctx: Context = {
    url,
    tenantId,
    template,
    seeded: 0,
    sessionId: sessionIdOf,
    async ensureSessions(n) {
      if (n <= ctx.seeded) return;
      const started = Date.now();
      await seedUsers(url, tenantId, ctx.seeded + 1, n + 1);
      await seedSessions(url, ctx.seeded + 1, n + 1, Math.floor(Date.now() / 1000), data);
      log(`seeded sessions ${ctx.seeded + 1}..${n} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      ctx.seeded = n;
    },
    async cookies(at = Math.floor(Date.now() / 1000)) {
      return cookieMaker(template, { at, logPosition: await latestSeq(url) });
    },
    workers: (n, init = {}, options = {}) => startWorkers(n, { url, issuer: NO_ISSUER, ...init }, options),
  };
  return ctx;
}

export { sessionIdOf, userIdOf };
