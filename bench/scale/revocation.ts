// Section 3, revocation at 8 processes: a session every process has read is revoked in process 0
// (kit.sessions.revoke); each of the 7 others reads its copy of the cookie every 10 ms from just
// before the revocation until it is refused. Latency: from the revocation's start in process 0 to
// the refusal in each other process (wall clocks of one machine). Idle, then with every process
// also serving a background read load. The PostgreSQL LISTEN feed wakes the processes.
import { fmt, type Table } from "../report";
import type { Context } from "./context";
import { sleep, spread } from "./util";

const PROCESSES = 8;
const LOAD_SESSIONS = 100;

/**
 * Whether a Redis change feed (`claims-kit/redis`, redisChangeFeed) is on this branch. Hook: when it
 * lands, start the workers with it (WorkerInit.feed) and add its column beside PostgreSQL's.
 */
export async function hasRedisFeed(): Promise<boolean> {
  try {
    const entry = "../../lib/claims-kit/redis";
    const mod = (await import(/* @vite-ignore */ entry)) as { redisChangeFeed?: unknown };
    return typeof mod.redisChangeFeed === "function";
  } catch {
    return false;
  }
}

async function rounds(ctx: Context, count: number, load: boolean): Promise<number[]> {
  const { workers, close } = await ctx.workers(PROCESSES);
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

export async function revocationTable(ctx: Context, scale: number, log: (line: string) => void): Promise<Table> {
  const count = Math.max(3, Math.round(20 * Math.min(1, scale * 3)));
  const idle = spread(await rounds(ctx, count, false));
  log(`revocation: idle p50 ${fmt(idle.p50, 1)} p99 ${fmt(idle.p99, 1)} max ${fmt(idle.max, 1)} ms`);
  const loaded = spread(await rounds(ctx, count, true));
  log(`revocation: under load p50 ${fmt(loaded.p50, 1)} p99 ${fmt(loaded.p99, 1)} max ${fmt(loaded.max, 1)} ms`);
  const redis = await hasRedisFeed();
  const row = (label: string, s: ReturnType<typeof spread>) => [label, s.n, `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)} / ${fmt(s.max, 1)}`, s.p99 <= 1000 ? "yes" : "NO", redis ? "not wired yet" : "— (no Redis feed on this branch)"];
  return {
    title: `Revocation at ${PROCESSES} processes: revoke in one, time until each of the other ${PROCESSES - 1} refuses the cookie`,
    columns: ["", "samples", "PostgreSQL LISTEN: p50 / p99 / max ms", "p99 ≤ 1 s", "Redis pub/sub"],
    numeric: [1],
    rows: [row("idle", idle), row(`under load (each process reading ${LOAD_SESSIONS} sessions in 2 loops)`, loaded)],
    notes: [
      `${PROCESSES} real worker processes (the reference app's composition, as in the reads table) on this 2-core machine: the under-load row runs 8 × 2 read loops plus the watchers on 2 cores, so it measures CPU oversubscribed about 8×, a pessimistic stand-in for 8 machines. Each watching process reads its copy every 10 ms (the figures include up to 10 ms of that sampling). ${count} revocations per row, each timed in the ${PROCESSES - 1} other processes (nearest-rank percentiles over all samples).`,
      "Path: kit.sessions.revoke in process 0 → UPDATE UserSession, INSERT into KitChange, NOTIFY → each process's LISTEN connection wakes its registry cache, which reads the log and forgets the session → that process's next read of the cookie goes to the registry and is refused.",
      redis
        ? "A Redis feed is present on this branch, but this section does not start workers with it yet (hook: WorkerInit.feed)."
        : "Redis column: hook only. claims-kit/redis (redisChangeFeed) has not landed on main; once it does, start the workers with it (WorkerInit.feed in bench/scale/worker.ts) and fill this column.",
    ],
  };
}
