// Section 5, what keeping N instances' registry caches current costs the database: N registry
// caches (pollers.ts), each with its own connection, in 2 worker processes, while a writer appends
// 2 changes per second to the log (and NOTIFYs, as a revocation does). Without a change feed each
// cache reads the log every second; with the PostgreSQL feed each holds a LISTEN connection (a
// heartbeat every second) and reads the log on a notification and every 5 s; with the Redis feed
// each holds a subscribing Redis connection (its PING every second goes to Redis) and reads the log
// on a message and every 5 s. Measured on the database side over a window: statements (the
// workers' relays), transactions and rows read (pg_stat_database), and the CPU time of the backends
// serving the bench database (/proc); for Redis, its command counters (INFO commandstats).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fmt, type Table } from "../report";
import type { Context } from "./context";
import { feedMessages } from "../../lib/claims-kit/stores/feed-message";
import { BENCH_SECRET } from "../servers";
import { CHANNEL, REDIS_URL, commandStats, publisher, redisProblem } from "./redis";
import { withClient } from "./seed";
import { sleep } from "./util";

const WINDOW_MS = 10_000;
/** Signed as the app signs its feed's messages (AUTH_SECRET): the instances apply what they announce. */
const messages = feedMessages(BENCH_SECRET);
const CHANGES_PER_SECOND = 2;

/** CPU seconds (user + system) of these PostgreSQL backends, from /proc (same machine); NaN when unreadable. */
function backendCpu(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // The backend ended (its connection closed): its time is lost to the sum.
    }
  }
  return pids.length ? ticks / 100 : NaN;
}

type Feed = "poll" | "listen" | "redis";

interface Run {
  instances: number;
  feed: Feed;
  statementsPerSecond: number;
  transactionsPerSecond: number;
  rowsPerSecond: number;
  cpuPercent: number;
  /** Redis commands per second (every client of the server: INFO commandstats), with the feed; by command. */
  redis?: { perSecond: number; byCommand: Record<string, number> };
}

/** Connections this bench may open for simulated instances: PostgreSQL's max_connections, less what is in use and a margin. */
async function connectionRoom(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const max = Number((await c.query<{ max_connections: string }>("SHOW max_connections")).rows[0]!.max_connections);
    const used = Number((await c.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_stat_activity")).rows[0]!.n);
    return max - used - 15;
  });
}

async function run(ctx: Context, instances: number, feed: Feed): Promise<Run> {
  const { workers, close } = await ctx.workers(2);
  const dbName = new URL(ctx.url).pathname.slice(1);
  let writing = true;
  let writer: Promise<void> | undefined;
  const pub = feed === "redis" ? await publisher() : null;
  try {
    const perWorker = [Math.ceil(instances / 2), Math.floor(instances / 2)];
    await Promise.all(workers.map((w, i) => w.call("pollers", { url: w.relay.url, count: perWorker[i], feed, redis: { url: REDIS_URL, channel: CHANNEL } })));
    // The writer tells the instances as a revocation in the app does: a message signed with the
    // app's secret announcing the change (NOTIFY on PostgreSQL, PUBLISH on Redis).
    writer = withClient(ctx.url, async (c) => {
      while (writing) {
        const { rows } = await c.query<{ seq: string }>(`INSERT INTO "KitChange" ("kind", "key", "at") VALUES ('session', 'bench-polling', $1) RETURNING "seq"`, [Math.floor(Date.now() / 1000)]);
        const message = messages.encode([{ seq: Number(rows[0]!.seq), kind: "session", key: "bench-polling" }], Date.now())!;
        if (pub) await pub.publish(message);
        else await c.query(`SELECT pg_notify('claims_kit_changes', $1)`, [message]);
        await sleep(1000 / CHANGES_PER_SECOND);
      }
    });
    await sleep(3000);
    const sample = () => withClient(ctx.url, async (c) => {
      const stats = (await c.query<{ xact_commit: string; tup_returned: string; tup_fetched: string }>(`SELECT xact_commit, tup_returned, tup_fetched FROM pg_stat_database WHERE datname = $1`, [dbName])).rows[0]!;
      const pids = (await c.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName])).rows.map((r) => r.pid);
      return { xact: Number(stats.xact_commit), rows: Number(stats.tup_returned) + Number(stats.tup_fetched), pids, relay: workers.reduce((s, w) => s + w.statements(), 0) };
    });
    // pg_stat_database is updated when a backend reports (about every second): sampled after a pause.
    const a = await sample();
    const redisA = pub ? await commandStats() : null;
    const cpuA = backendCpu(a.pids);
    const t0 = performance.now();
    await sleep(WINDOW_MS);
    const cpuB = backendCpu(a.pids);
    const redisB = pub ? await commandStats() : null;
    const seconds = (performance.now() - t0) / 1000;
    await sleep(1000);
    const b = await sample();
    let redis: Run["redis"];
    if (redisA && redisB) {
      const byCommand: Record<string, number> = {};
      for (const [k, v] of Object.entries(redisB)) if (v - (redisA[k] ?? 0) > 0) byCommand[k] = (v - (redisA[k] ?? 0)) / seconds;
      redis = { perSecond: Object.values(byCommand).reduce((x, y) => x + y, 0), byCommand };
    }
    return {
      instances, feed,
      statementsPerSecond: (b.relay - a.relay) / (seconds + 1),
      transactionsPerSecond: (b.xact - a.xact) / (seconds + 1),
      rowsPerSecond: (b.rows - a.rows) / (seconds + 1),
      cpuPercent: ((cpuB - cpuA) / seconds) * 100,
      redis,
    };
  } finally {
    writing = false;
    await writer?.catch(() => undefined);
    pub?.close();
    await close();
  }
}

const LABELS: Record<Feed, string> = {
  poll: "no feed: each reads the log every pollMs (1 s)",
  listen: "PostgreSQL LISTEN: heartbeat every 1 s, changes applied from each NOTIFY, log read every 5 s",
  redis: "Redis pub/sub: PING to Redis every 1 s, changes applied from each PUBLISH, log read every 5 s",
};

export async function pollingTable(ctx: Context, scale: number, log: (line: string) => void): Promise<Table> {
  const counts = scale < 1 ? [8, 24] : [8, 100];
  const noRedis = await redisProblem();
  const feeds: Feed[] = noRedis ? ["poll", "listen"] : ["poll", "listen", "redis"];
  const runs: Array<Run & { measured: number }> = [];
  for (const feed of feeds) {
    for (const n of counts) {
      // One connection per instance, two with the LISTEN feed; PostgreSQL's max_connections is shared.
      const room = Math.floor((await connectionRoom(ctx.url)) / (feed === "listen" ? 2 : 1));
      const measured = Math.max(1, Math.min(n, room));
      const r = await run(ctx, measured, feed);
      // Fewer instances than asked: the per-instance cost, scaled linearly to n (the writer's share is small).
      const f = n / measured;
      const redis = r.redis && { perSecond: r.redis.perSecond * f, byCommand: Object.fromEntries(Object.entries(r.redis.byCommand).map(([k, v]) => [k, v * f])) };
      runs.push({ ...r, instances: n, measured, statementsPerSecond: r.statementsPerSecond * f, transactionsPerSecond: r.transactionsPerSecond * f, rowsPerSecond: r.rowsPerSecond * f, cpuPercent: r.cpuPercent * f, redis });
      log(`polling: ${n} instances (${measured} run), ${feed}: ${fmt(r.statementsPerSecond, 1)} statements/s${r.redis ? `, Redis ${fmt(r.redis.perSecond, 1)} commands/s` : ""}`);
    }
  }
  const redisCell = (r: Run) => (r.redis ? `${fmt(r.redis.perSecond, 0)} (${Object.entries(r.redis.byCommand).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${fmt(v, 1)}`).join(", ")})` : "—");
  const per = (feed: Feed, n: number) => runs.find((r) => r.feed === feed && r.instances === n);
  const perInstance = (feed: Feed) => counts.map((n) => fmt((per(feed, n)?.statementsPerSecond ?? NaN) / n, 2)).join(" and ");
  return {
    title: `Keeping the registry caches current: database cost at ${counts.join(" and ")} instances (${CHANGES_PER_SECOND} changes/s)`,
    columns: ["instances", "wake-ups", "statements/s", "transactions/s", "rows read/s", "DB backend CPU % of one core", "Redis commands/s (by command)"],
    numeric: [0, 2, 3, 4, 5],
    rows: [
      ...runs.map((r) => [r.measured === r.instances ? r.instances : `${r.instances} (extrapolated from ${r.measured})`, LABELS[r.feed], fmt(r.statementsPerSecond, 0), fmt(r.transactionsPerSecond, 0), fmt(r.rowsPerSecond, 0), fmt(r.cpuPercent, 1), redisCell(r)]),
      ...(noRedis ? counts.map((n) => [n, "Redis pub/sub", `not measured: ${noRedis}`, "", "", "", ""]) : []),
    ],
    notes: [
      `Instances simulated: ${counts.join(" and ")} registry caches (cachedSessionRegistry over prismaSessionRegistry and prismaChangeLog, as the reference app composes them), each with a Prisma client of its own (its own connection; with the LISTEN feed also its own LISTEN connection; with the Redis feed its own subscribing Redis connection), split over 2 worker processes; a writer appends ${CHANGES_PER_SECOND} KitChange rows per second and announces each in a message signed with the app's secret (NOTIFY, or PUBLISH on this run's Redis channel), as the app's feeds do. Window ${WINDOW_MS / 1000} s after 3 s of settling; each feed's instances are counted once connected.`,
      "Where PostgreSQL's max_connections (shared with whatever else runs) leaves no room for every simulated instance's connections, fewer ran and the row scales their figures linearly to the instance count (each instance's cost is its own connection's: the same poll, heartbeat or NOTIFY-driven read), marked \"extrapolated from\".",
      "Statements: every Query/Execute message the instances sent (their relays); transactions and rows read (tup_returned + tup_fetched): pg_stat_database for the bench database, the writer's share included; DB CPU: user + system time of the backends serving the bench database (/proc/<pid>/stat, 10 ms ticks). Redis commands: INFO commandstats of the whole server over the window (the writer's PUBLISH and the two INFO calls included; any other client of that server too).",
      `Statements per instance per second: no feed ${perInstance("poll")}, LISTEN ${perInstance("listen")}${noRedis ? "" : `, Redis ${perInstance("redis")}`} (at ${counts.join(" and ")} instances). Polling reads the log once per second per instance. With a feed, each instance applies the changes a message announces (signed with the app's secret) without reading the log, and reads it only for its 5 s safety poll (which checks what was announced against the log): 0.2 reads per instance per second whatever the change rate. The LISTEN feed adds its heartbeat (a \`SELECT 1\` per instance per second) and each NOTIFY's delivery to every listening backend; the Redis feed's heartbeat is a PING to Redis, and its messages never touch the database, so what it costs the database per instance is the safety poll alone. (Before the messages announced their changes, every instance read the log on every message: 203 statements/s at 100 instances with Redis and 315 with LISTEN, against 82 for polling, in the run of 2026-12-07.)`,
    ],
  };
}
