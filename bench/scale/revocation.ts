// Section 3, revocation at 8 processes: a session every process has read is revoked in process 0
// (kit.sessions.revoke); each of the 7 others reads its copy of the cookie every 10 ms from just
// before the revocation until it is refused. Latency: from the revocation's start in process 0 to
// the refusal in each other process (wall clocks of one machine). Idle, then with every process
// also serving a background read load. The PostgreSQL LISTEN feed wakes the processes; then the
// same with the Redis feed (claims-kit/redis, redisChangeFeed) when a Redis server answers.
import { fmt, type Table } from "../report";
import type { Context } from "./context";
import { CHANNEL, REDIS_URL, redisProblem } from "./redis";
import { sleep, spread } from "./util";
import type { WorkerInit } from "./worker";

const PROCESSES = 8;
const LOAD_SESSIONS = 100;

async function rounds(ctx: Context, count: number, load: boolean, feed: "listen" | "redis"): Promise<number[]> {
  const init: Partial<WorkerInit> = feed === "redis" ? { feed, redis: { url: REDIS_URL, channel: CHANNEL } } : {};
  const { workers, close } = await ctx.workers(PROCESSES, init);
  try {
    const make = await ctx.cookies();
    const first = ctx.seeded + 1;
    await ctx.ensureSessions(ctx.seeded + count);
    if (load) {
      const cookies = await Promise.all(Array.from({ length: LOAD_SESSIONS }, (_, i) => make(i + 1)));
      await Promise.all(workers.map((w) => w.call("startLoad", { cookies, concurrency: 2 })));
      await sleep(1000);
    }
    const latencies: number[] = [];
    for (let r = 0; r < count; r++) {
      const cookie = await make(first + r);
      // Every process has read the session (and holds the cookie its read set).
      const copies = await Promise.all(workers.map(async (w) => {
        const read = await w.read(cookie);
        if (!read.signedIn || !read.cookie) throw new Error(`revocation: a process refused session ${first + r} before it was revoked`);
        return read.cookie;
      }));
      const watching = workers.slice(1).map((w, k) => w.call<number | null>("watch", { cookie: copies[k + 1], everyMs: 10, timeoutMs: 15_000 }));
      await sleep(30);
      const { at } = await workers[0]!.call<{ at: number }>("revoke", { sid: ctx.sessionId(first + r) });
      for (const refusedAt of await Promise.all(watching)) {
        if (refusedAt === null) throw new Error(`revocation: a process still accepted session ${first + r} 15 s after it was revoked`);
        latencies.push(Math.max(0, refusedAt - at));
      }
    }
    if (load) await Promise.all(workers.map((w) => w.call("stopLoad")));
    return latencies;
  } finally {
    await close();
  }
}

type Spread = ReturnType<typeof spread>;

export async function revocationTable(ctx: Context, scale: number, log: (line: string) => void): Promise<Table> {
  const count = Math.max(3, Math.round(20 * Math.min(1, scale * 3)));
  const measure = async (feed: "listen" | "redis") => {
    const idle = spread(await rounds(ctx, count, false, feed));
    log(`revocation (${feed}): idle p50 ${fmt(idle.p50, 1)} p99 ${fmt(idle.p99, 1)} max ${fmt(idle.max, 1)} ms`);
    const loaded = spread(await rounds(ctx, count, true, feed));
    log(`revocation (${feed}): under load p50 ${fmt(loaded.p50, 1)} p99 ${fmt(loaded.p99, 1)} max ${fmt(loaded.max, 1)} ms`);
    return { idle, loaded };
  };
  const pg = await measure("listen");
  const noRedis = await redisProblem();
  const redis = noRedis ? null : await measure("redis");
  const cells = (s: Spread) => [`${fmt(s.p50, 1)} / ${fmt(s.p99, 1)} / ${fmt(s.max, 1)}`, s.p99 <= 1000 ? "yes" : "NO"];
  const row = (label: string, which: "idle" | "loaded") => [label, pg[which].n, ...cells(pg[which]), ...(redis ? cells(redis[which]) : [`— (${noRedis})`, "—"])];
  return {
    title: `Revocation at ${PROCESSES} processes: revoke in one, time until each of the other ${PROCESSES - 1} refuses the cookie`,
    columns: ["", "samples per feed", "PostgreSQL LISTEN: p50 / p99 / max ms", "p99 ≤ 1 s", "Redis pub/sub: p50 / p99 / max ms", "p99 ≤ 1 s"],
    numeric: [1],
    rows: [row("idle", "idle"), row(`under load (each process reading ${LOAD_SESSIONS} sessions in 2 loops)`, "loaded")],
    notes: [
      `${PROCESSES} real worker processes (the reference app's composition, as in the reads table) on this 2-core machine: the under-load row runs 8 × 2 read loops plus the watchers on 2 cores, so it measures CPU oversubscribed about 8×, a pessimistic stand-in for 8 machines. Each watching process reads its copy every 10 ms (the figures include up to 10 ms of that sampling). ${count} revocations per row and feed, each timed in the ${PROCESSES - 1} other processes (nearest-rank percentiles over all samples). Each feed's processes are started afresh, and measured once their feed is connected.`,
      "Path: kit.sessions.revoke in process 0 → UPDATE UserSession, INSERT into KitChange, then the wake-up (PostgreSQL: NOTIFY, which each process's LISTEN connection receives; Redis: PUBLISH on a channel each process's subscribing connection holds) → each process's registry cache reads the log and forgets the session → that process's next read of the cookie goes to the registry and is refused.",
      redis
        ? `Redis: redisChangeFeed (claims-kit/redis, ioredis) on ${new URL(REDIS_URL).host}, on a channel of this run's own (${CHANNEL}); the database work of a revocation is the same as with LISTEN, only the wake-up goes through Redis.`
        : `Redis column: not measured, ${noRedis}.`,
    ],
  };
}
