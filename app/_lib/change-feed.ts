// The registry cache's change feed, chosen by AUTH_CHANGE_FEED: what tells the other `next start`
// processes at once that a session changed (otherwise each reads the change log every second).
import type { AppEnv } from "@/app/_lib/env";
import { inProcessChangeFeed, type ChangeFeed } from "@/lib/claims-kit/plugin";
import { postgresChangeFeed } from "@/lib/claims-kit/prisma";
import { redisChangeFeed } from "@/lib/claims-kit/redis";

const isPostgres = (url: string | undefined) => /^postgres(ql)?:\/\//.test(url ?? "");

/**
 * The feed AUTH_CHANGE_FEED names (default: PostgreSQL LISTEN/NOTIFY on a PostgreSQL DATABASE_URL,
 * else in-process only), and its start-up check. Built lazily (nothing connects before the first
 * request), so `next build` needs none of the variables; a misconfiguration gets the in-process
 * feed until `check()` (instrumentation.ts, at `next start`) stops the server naming the variable.
 *
 * @example
 * ```ts
 * const { feed, check } = appChangeFeed(env);
 * ```
 */
export function appChangeFeed(env: Pick<AppEnv, "AUTH_CHANGE_FEED" | "DATABASE_URL" | "REDIS_URL" | "AUTH_SECRET">): { kind: string; feed: ChangeFeed; check(): void } {
  const kind = env.AUTH_CHANGE_FEED ?? (isPostgres(env.DATABASE_URL) ? "postgres" : "in-process");
  const log = (message: string) => console.warn(`[claims-kit] ${message}`);
  let problem: string | null = null;
  let feed: ChangeFeed | null = null;
  // Signed messages carry the changes (no read of the change log per process and change); a
  // secret too short to key them leaves bare wake-ups.
  const secret = (env.AUTH_SECRET?.length ?? 0) >= 32 ? env.AUTH_SECRET : undefined;
  if (kind === "postgres") {
    if (isPostgres(env.DATABASE_URL)) feed = postgresChangeFeed(env.DATABASE_URL!, { secret, log });
    else problem = "AUTH_CHANGE_FEED=postgres needs a PostgreSQL DATABASE_URL (LISTEN/NOTIFY); use redis or in-process";
  } else if (kind === "redis") {
    if (env.REDIS_URL) feed = redisChangeFeed({ url: env.REDIS_URL, secret, log });
    else problem = "REDIS_URL must be set when AUTH_CHANGE_FEED=redis";
  }
  return {
    kind,
    feed: feed ?? inProcessChangeFeed(),
    check() {
      if (problem) throw new Error(`configuration: ${problem} (see docs/reference-app.md, Configuration)`);
    },
  };
}
