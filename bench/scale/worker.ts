// One bench process (forked by pool.ts): the reference app composed in-process by createAuth()
// (auth.config.ts: the kit, the Prisma registry behind the registry cache, the change log, the
// change feed (PostgreSQL LISTEN, or Redis pub/sub), the Prisma token vault) over its own Prisma client, serving session reads
// as the app's route does (readSessionResponse: Auth.js's session action, the kit's codec, real
// cookies). No Next.js server around it: the same read path without HTTP and rendering noise.
// Every SQL statement its Prisma client sends is counted by kind (the wire relay in front of it
// counts the rest: the change feed's LISTEN, NOTIFY and heartbeats).
import { readFileSync, readdirSync } from "node:fs";
import { constants, performance, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { readSessionResponse } from "../../lib/claims-kit/next/internal/session-reads";
import { prismaReplayStore, prismaSecurityEventLog } from "../../lib/claims-kit/prisma";
import { redisChangeFeed } from "../../lib/claims-kit/redis";
import { BENCH_SECRET, SESSION_COOKIE } from "../servers";
import { pollers } from "./pollers";

export interface WorkerInit {
  url: string;
  /** The provider the app refreshes with (section 4); any URL otherwise (never called). */
  issuer: string;
  /**
   * Wake-ups: the app's PostgreSQL LISTEN feed (default), Redis pub/sub (`redis`: the kit's
   * redisChangeFeed on `redis.url`, channel `redis.channel`), or none (the cache polls every second).
   */
  feed?: "listen" | "poll" | "redis";
  redis?: { url: string; channel: string };
  /**
   * The kit's clock held at this moment (ms since the epoch; section 2): no session's claims reload
   * or registry verification falls due while it is held, so reads measure the read path alone.
   */
  clockMs?: number;
}

export type Kind = "check" | "log" | "touch" | "load" | "serverData" | "vault" | "other";
const KINDS: Kind[] = ["check", "log", "touch", "load", "serverData", "vault", "other"];

export function kindOf(sql: string): Kind {
  if (sql.includes(`"KitChange"`)) return "log";
  if (sql.includes(`"Account"`)) return "vault";
  if (sql.includes(`UPDATE "UserSession" SET "lastSeenAt"`)) return "touch";
  if (sql.includes(`FROM "UserSession" s JOIN "User"`)) return "check";
  if (sql.includes(`"SessionData"`)) return "serverData";
  if (/"(User|Membership|Tenant)"/.test(sql)) return "load";
  return "other";
}

const counts = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
const snapshot = () => ({ ...counts });
/** Wall clock in ms with sub-ms precision, comparable across processes on one machine. */
export const wallMs = () => performance.timeOrigin + performance.now();

const APP_URL = "http://localhost:3999";

async function build(init: WorkerInit) {
  const { readEnv } = await import("../../app/_lib/env");
  const { createPrismaClient } = await import("../../app/_lib/db-client");
  const { createAuth } = await import("../../auth.config");
  const { inProcessChangeFeed } = await import("../../lib/claims-kit/plugin");
  const { postgresChangeFeed } = await import("../../lib/claims-kit/prisma");
  const env = readEnv({
    NODE_ENV: "production",
    DATABASE_URL: init.url,
    AUTH_SECRET: BENCH_SECRET,
    AUTH_OIDC_ISSUER: init.issuer,
    AUTH_OIDC_ID: "bench-scale",
    AUTH_OIDC_SECRET: "bench-scale-secret",
    AUTH_TOKEN_MODE: "vault",
  });
  const prisma = createPrismaClient(init.url, { logQueries: true });
  (prisma as unknown as { $on(event: "query", fn: (e: { query: string }) => void): void }).$on("query", (e) => void counts[kindOf(e.query)]++);
  // Without a feed the registry cache falls back to polling the log every second (its default).
  // The cross-process feeds are made here as the app makes them (app/_lib/change-feed.ts), so
  // that init can wait until they are connected; Redis on a channel of this run's own.
  const feed = init.feed === "poll" ? inProcessChangeFeed()
    : init.feed === "redis" ? redisChangeFeed({ url: init.redis!.url, channel: init.redis!.channel, log: (m) => console.warn(`[worker ${process.pid}] ${m}`) })
    : postgresChangeFeed(init.url);
  const registryCache = { feed };
  // Sessions the bench ends on purpose would log a line per refused read: warnings and errors only.
  const logger = { info() {}, warn: (m: string) => console.warn(`[worker ${process.pid}] ${m}`), error: (m: string) => console.error(`[worker ${process.pid}] ${m}`) };
  const clockMs = init.clockMs;
  const app = createAuth(env, { prisma, logger, registryCache: registryCache as never, ...(clockMs === undefined ? {} : { clock: () => clockMs }) });
  const config = { ...app.authConfig, basePath: "/api/auth", secret: BENCH_SECRET, trustHost: true };
  return { app, prisma, config, feed };
}

type Built = Awaited<ReturnType<typeof build>>;
let built: Built | undefined;
const app = () => {
  if (!built) throw new Error("worker: init first");
  return built;
};

export interface ReadResult {
  /** The cookie the response set (the browser keeps it), or null when the session was refused. */
  cookie: string | null;
  signedIn: boolean;
  ms: number;
  /** Statements the read's own Prisma client sent, by kind (background log reads excluded). */
  statements: Partial<Record<Kind, number>>;
  /** When the read ended (wallMs: sub-ms, comparable across processes). */
  at: number;
}

/** One GET /api/auth/session with this session cookie, as the app's route serves it. */
export async function read(cookie: string): Promise<ReadResult> {
  const before = snapshot();
  const started = wallMs();
  const request = new Request(`${APP_URL}/api/auth/session`, { headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
  const response = await readSessionResponse(request, app().config);
  const body = (await response.json()) as { user?: unknown } | null;
  const line = response.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`));
  const value = line ? line.slice(SESSION_COOKIE.length + 1, line.indexOf(";")) : "";
  const statements: Partial<Record<Kind, number>> = {};
  for (const k of KINDS) if (k !== "log" && counts[k] > before[k]) statements[k] = counts[k] - before[k];
  const signedIn = Boolean(body?.user);
  return { cookie: signedIn ? value || cookie : null, signedIn, ms: wallMs() - started, statements, at: wallMs() };
}

/**
 * CPU time of each of this process's threads so far (µs; Linux's per-thread schedstat, ns): the
 * main thread (JavaScript, GC pauses) apart from the others (V8's GC helpers, libuv). Null elsewhere.
 */
function threadCpuUs(): { main: number; others: number } | null {
  try {
    let main = 0;
    let others = 0;
    for (const tid of readdirSync("/proc/self/task")) {
      let ns: number;
      try {
        ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        continue; // a thread that ended meanwhile
      }
      if (Number(tid) === process.pid) main += ns / 1000;
      else others += ns / 1000;
    }
    return { main, others };
  } catch {
    return null;
  }
}

/** GC pauses while `fn` runs (perf_hooks "gc" entries: main-thread pause time, ms), minor (scavenges) and the rest. */
async function withGcPauses<T>(fn: () => Promise<T>): Promise<{ result: T; gc: { minorMs: number; majorMs: number; minor: number; major: number } }> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => void entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ["gc"] });
  const started = performance.now();
  let result: T;
  try {
    result = await fn();
    // Node queues a GC's entry for the event loop's next turn: reads answered from memory never
    // give it one, so the entries of the batch arrive only now.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    entries.push(...observer.takeRecords());
    observer.disconnect();
  }
  const gc = { minorMs: 0, majorMs: 0, minor: 0, major: 0 };
  for (const e of entries) {
    if (e.startTime < started) continue;
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      gc.minor++;
      gc.minorMs += e.duration;
    } else {
      gc.major++;
      gc.majorMs += e.duration;
    }
  }
  return { result, gc };
}

/** Background reads (section 3's "under load"): `concurrency` loops over `cookies` until stopped. */
let loadStop: (() => Promise<number>) | undefined;
function startLoad(cookies: string[], concurrency: number): void {
  let stop = false;
  let reads = 0;
  const jar = [...cookies];
  const loops = Array.from({ length: concurrency }, async (_, c) => {
    for (let i = c; !stop; i += concurrency) {
      const k = i % jar.length;
      const r = await read(jar[k]!);
      if (r.cookie) jar[k] = r.cookie;
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  loadStop = async () => {
    stop = true;
    await Promise.all(loops);
    return reads;
  };
}

/** Read `cookie` every `everyMs` until it is refused (or `timeoutMs`); when it was refused (wall ms). */
async function watch(cookie: string, everyMs: number, timeoutMs: number): Promise<number | null> {
  const until = wallMs() + timeoutMs;
  let current = cookie;
  while (wallMs() < until) {
    const r = await read(current);
    if (!r.signedIn) return wallMs();
    current = r.cookie ?? current;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return null;
}

const ops: Record<string, (args: never) => Promise<unknown>> = {
  async init(args: WorkerInit) {
    built = await build(args);
    // The registry cache starts (first read of the log, the feed) with the first use; a
    // cross-process feed connects in the background: measured only once it is up.
    await app().app.sessions.sync();
    if (args.feed !== "poll") {
      const until = wallMs() + 5000;
      while (!app().feed.crossProcess) {
        if (wallMs() > until) throw new Error(`worker: the ${args.feed ?? "listen"} change feed did not connect within 5 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    return { pid: process.pid };
  },
  /** A sign-in through the kit's jwt() (the template session): the token Auth.js would seal. */
  async signIn(args: { userId: string; email: string; name: string; account?: Record<string, unknown> }) {
    const user = { id: args.userId, email: args.email, name: args.name };
    return app().app.kit.callbacks.jwt({ token: { sub: args.userId, email: args.email, name: args.name }, user, account: (args.account ?? null) as never, trigger: "signIn" });
  },
  read: (args: { cookie: string }) => read(args.cookie),
  /** Several reads at once in this process (section 4: readers of one grant). */
  readAll: (args: { cookies: string[] }) => Promise.all(args.cookies.map((c) => read(c))),
  /**
   * Reads of `cookies`, in order, as fast as one loop goes: the process's CPU time over them, its
   * main thread's and the other threads' (null where Linux's schedstat is missing), GC pauses.
   */
  async readBatch(args: { cookies: string[] }) {
    const threads = threadCpuUs();
    const cpu = process.cpuUsage();
    const started = wallMs();
    const out: Array<string | null> = [];
    let refused = 0;
    const { gc } = await withGcPauses(async () => {
      for (const c of args.cookies) {
        const r = await read(c);
        out.push(r.cookie);
        if (!r.signedIn) refused++;
      }
    });
    const used = process.cpuUsage(cpu);
    const elapsed = wallMs() - started;
    const threadsAfter = threadCpuUs();
    const split = threads && threadsAfter ? { mainUs: threadsAfter.main - threads.main, othersUs: threadsAfter.others - threads.others } : null;
    return { cookies: out, refused, cpuUs: used.user + used.system, wallMs: elapsed, threads: split, gc };
  },
  async revoke(args: { sid: string }) {
    const at = wallMs();
    await app().app.kit.sessions.revoke(args.sid, { by: "admin" });
    return { at, done: wallMs() };
  },
  async revokeMany(args: { sids: string[]; concurrency: number }) {
    const at = wallMs();
    let next = 0;
    await Promise.all(Array.from({ length: args.concurrency }, async () => {
      while (next < args.sids.length) await app().app.kit.sessions.revoke(args.sids[next++]!, { by: "admin" });
    }));
    return { at, done: wallMs() };
  },
  watch: (args: { cookie: string; everyMs: number; timeoutMs: number }) => watch(args.cookie, args.everyMs, args.timeoutMs),
  async startLoad(args: { cookies: string[]; concurrency: number }) {
    startLoad(args.cookies, args.concurrency);
    return true;
  },
  stopLoad: async () => (loadStop ? loadStop() : 0),
  /** Registry reads of these sessions (fills the registry cache as a read that misses does). */
  async check(args: { sids: string[]; concurrency: number }) {
    let next = 0;
    let found = 0;
    await Promise.all(Array.from({ length: args.concurrency }, async () => {
      while (next < args.sids.length) if (await app().app.sessions.check(args.sids[next++]!)) found++;
    }));
    return found;
  },
  sync: () => app().app.sessions.sync(),
  /** Read every cookie until each one is refused (or `timeoutMs`); when the last was refused (wall ms). */
  async untilAllRefused(args: { cookies: string[]; timeoutMs: number }) {
    const until = wallMs() + args.timeoutMs;
    let left = [...args.cookies];
    while (left.length > 0 && wallMs() < until) {
      const next: string[] = [];
      for (const c of left) {
        const r = await read(c);
        if (r.signedIn) next.push(r.cookie ?? c);
      }
      left = next;
    }
    return left.length === 0 ? wallMs() : null;
  },
  /** How many of these sessions the registry (through the cache) still holds as live. */
  async countLive(args: { sids: string[] }) {
    let live = 0;
    for (const sid of args.sids) {
      const state = await app().app.sessions.check(sid);
      if (state && !state.revoked) live++;
    }
    return live;
  },
  /** One retention purge as of `now` (section 7), as the app's runs it (replay keys, security events); its time in this process. */
  async purge(args: { now: number; keepFor?: number; batchSize?: number }) {
    const { prisma } = app();
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await app().app.kit.sessions.purge({ ...args, replay: prismaReplayStore(prisma), events: prismaSecurityEventLog(prisma) });
    const used = process.cpuUsage(cpu);
    return { ...result, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000 };
  },
  async stats() {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return { cpuUs: cpu.user + cpu.system, rss: memory.rss, heapUsed: memory.heapUsed, statements: snapshot(), registry: built ? app().app.sessions.stats() : null, at: wallMs() };
  },
  /** A full GC (with --expose-gc), then the memory left and how long a second one took: the cost of marking the live heap. */
  gc: async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const started = performance.now();
    gc?.();
    return { ...process.memoryUsage(), fullGcMs: gc ? performance.now() - started : NaN };
  },
  pollers: (args: Parameters<typeof pollers.start>[0]) => pollers.start(args),
  stopPollers: () => pollers.stop(),
  async close() {
    await loadStop?.();
    await pollers.stop();
    if (built) {
      await built.app.close();
      await built.prisma.$disconnect();
    }
    return true;
  },
};

process.on("message", (message: { id: number; op: string; args: unknown }) => {
  const op = ops[message.op];
  const run = op ? op(message.args as never) : Promise.reject(new Error(`worker: no op "${message.op}"`));
  run.then(
    (result) => process.send!({ id: message.id, ok: true, result }),
    (err: unknown) => process.send!({ id: message.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
  );
});
process.send!({ ready: true });
