// Retention in the background (instrumentation.ts): kit.sessions.purge() every AUTH_PURGE_EVERY
// minutes, keeping ended sessions AUTH_SESSION_RETENTION days. Every process runs it; purges are
// idempotent and batched, so two at once only share the work. `npm run db:purge` runs one by hand.
import type { AppEnv } from "@/app/_lib/env";
import type { PurgeOptions, PurgeResult } from "@/lib/claims-kit";
import { prismaReplayStore, prismaSecurityEventLog, type RawSqlClient } from "@/lib/claims-kit/prisma";

/** What a purge needs of the app: its kit's `sessions.purge`. */
interface Purger {
  purge(options?: PurgeOptions): Promise<PurgeResult>;
}

/**
 * One purge with the app's retention: sessions, their data, the change log, replay keys, events.
 *
 * @example
 * ```ts
 * const result = await purgeOnce(env, kit.sessions, prisma);
 * ```
 */
export function purgeOnce(env: Pick<AppEnv, "AUTH_SESSION_RETENTION">, sessions: Purger, db: RawSqlClient): Promise<PurgeResult> {
  return sessions.purge({ keepFor: env.AUTH_SESSION_RETENTION * 24 * 60 * 60, replay: prismaReplayStore(db), events: prismaSecurityEventLog(db) });
}

/**
 * Purge every AUTH_PURGE_EVERY minutes (0: never), the first time at a random moment within the
 * first interval (processes started together do not purge together). Returns the stop.
 *
 * @example
 * ```ts
 * const stop = startPurging(env, kit.sessions, prisma);
 * ```
 */
export function startPurging(env: Pick<AppEnv, "AUTH_SESSION_RETENTION" | "AUTH_PURGE_EVERY">, sessions: Purger, db: RawSqlClient): () => void {
  if (env.AUTH_PURGE_EVERY === 0) return () => undefined;
  const every = env.AUTH_PURGE_EVERY * 60_000;
  let timer: ReturnType<typeof setTimeout>;
  const run = async () => {
    try {
      const r = await purgeOnce(env, sessions, db);
      if (r.expired + r.deleted > 0) console.info(`[retention] ${r.expired} sessions expired, ${r.deleted} deleted (${r.serverData} server data rows, ${r.changes} change-log rows)`);
    } catch (err) {
      console.error(`[retention] purge failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    timer = setTimeout(() => void run(), every);
    timer.unref?.();
  };
  timer = setTimeout(() => void run(), Math.floor(Math.random() * every));
  timer.unref?.();
  return () => clearTimeout(timer);
}
