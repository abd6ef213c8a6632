// Section 5, what keeping N instances' registry caches current costs the database: N registry
// caches (pollers.ts), each with its own connection, in 2 worker processes, while a writer appends
// 2 changes per second to the log (and NOTIFYs, as a revocation does). Without a change feed each
// cache reads the log every second; with the PostgreSQL feed each holds a LISTEN connection (a
// heartbeat every second) and reads the log on a notification and every 5 s. Measured on the
// database side over a window: statements (the workers' relays), transactions and rows read
// (pg_stat_database), and the CPU time of the backends serving the bench database (/proc).
import { readFileSync } from "node:fs";
import { fmt, type Table } from "../report";
import type { Context } from "./context";
import { hasRedisFeed } from "./revocation";
import { withClient } from "./seed";
import { sleep } from "./util";

const WINDOW_MS = 10_000;
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

interface Run {
  instances: number;
  feed: "poll" | "listen";
  statementsPerSecond: number;
  transactionsPerSecond: number;
  rowsPerSecond: number;
  cpuPercent: number;
}

/** Connections this bench may open for simulated instances: PostgreSQL's max_connections, less what is in use and a margin. */
async function connectionRoom(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const max = Number((await c.query<{ max_connections: string }>("SHOW max_connections")).rows[0]!.max_connections);
    const used = Number((await c.query<{ n: string }>("SELECT COUNT(*) AS n FROM pg_stat_activity")).rows[0]!.n);
    return max - used - 15;
  });
}

async function run(ctx: Context, instances: number, feed: "poll" | "listen"): Promise<Run> {
  const { workers, close } = await ctx.workers(2);
  const dbName = new URL(ctx.url).pathname.slice(1);
  let writing = true;
  let writer: Promise<void> | undefined;
  try {
    const perWorker = [Math.ceil(instances / 2), Math.floor(instances / 2)];
    await Promise.all(workers.map((w, i) => w.call("pollers", { url: w.relay.url, count: perWorker[i], feed })));
    writer = withClient(ctx.url, async (c) => {
      while (writing) {
        await c.query(`INSERT INTO "KitChange" ("kind", "key", "at") VALUES ('session', 'bench-polling', $1)`, [Math.floor(Date.now() / 1000)]);
        await c.query(`NOTIFY claims_kit_changes`);
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
    const cpuA = backendCpu(a.pids);
    const t0 = Date.now();
    await sleep(WINDOW_MS);
    const cpuB = backendCpu(a.pids);
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1000);
    const b = await sample();
    return {
      instances, feed,
      statementsPerSecond: (b.relay - a.relay) / (seconds + 1),
      transactionsPerSecond: (b.xact - a.xact) / (seconds + 1),
      rowsPerSecond: (b.rows - a.rows) / (seconds + 1),
      cpuPercent: ((cpuB - cpuA) / seconds) * 100,
    };
  } finally {
    writing = false;
    await writer?.catch(() => undefined);
    await close();
  }
}

export async function pollingTable(ctx: Context, scale: number, log: (line: string) => void): Promise<Table> {
  const counts = scale < 1 ? [8, 24] : [8, 100];
  const runs: Array<Run & { measured: number }> = [];
  for (const feed of ["poll", "listen"] as const) {
    for (const n of counts) {
      // One connection per instance, two with the LISTEN feed; PostgreSQL's max_connections is shared.
      const room = Math.floor((await connectionRoom(ctx.url)) / (feed === "listen" ? 2 : 1));
      const measured = Math.max(1, Math.min(n, room));
      const r = await run(ctx, measured, feed);
      // Fewer instances than asked: the per-instance cost, scaled linearly to n (the writer's share is small).
      const f = n / measured;
      runs.push({ ...r, instances: n, measured, statementsPerSecond: r.statementsPerSecond * f, transactionsPerSecond: r.transactionsPerSecond * f, rowsPerSecond: r.rowsPerSecond * f, cpuPercent: r.cpuPercent * f });
      log(`polling: ${n} instances (${measured} run), ${feed}: done`);
    }
  }
  const redis = await hasRedisFeed();
  const label = (r: Run) => (r.feed === "poll" ? "no feed: each reads the log every pollMs (1 s)" : "PostgreSQL LISTEN: heartbeat every 1 s, log read on NOTIFY and every 5 s");
  return {
    title: `Keeping the registry caches current: database cost at ${counts.join(" and ")} instances (${CHANGES_PER_SECOND} changes/s)`,
    columns: ["instances", "wake-ups", "statements/s", "transactions/s", "rows read/s", "DB backend CPU % of one core"],
    numeric: [0, 2, 3, 4, 5],
    rows: [
      ...runs.map((r) => [r.measured === r.instances ? r.instances : `${r.instances} (extrapolated from ${r.measured})`, label(r), fmt(r.statementsPerSecond, 0), fmt(r.transactionsPerSecond, 0), fmt(r.rowsPerSecond, 0), fmt(r.cpuPercent, 1)]),
      ...counts.map((n) => [n, "Redis pub/sub", redis ? "not wired yet" : "hook (no Redis feed on main)", "", "", ""]),
    ],
    notes: [
      `Instances simulated: ${counts.join(" and ")} registry caches (cachedSessionRegistry over prismaSessionRegistry and prismaChangeLog, as the reference app composes them), each with a Prisma client of its own (its own connection, and its own LISTEN connection with the feed), split over 2 worker processes; a writer appends ${CHANGES_PER_SECOND} KitChange rows per second and NOTIFYs. Window ${WINDOW_MS / 1000} s after 3 s of settling.`,
      "Where PostgreSQL's max_connections (shared with whatever else runs) leaves no room for every simulated instance's connections, fewer ran and the row scales their figures linearly to the instance count (each instance's cost is its own connection's: the same poll or heartbeat), marked \"extrapolated from\".",
      "Statements: every Query/Execute message the instances sent (their relays); transactions and rows read (tup_returned + tup_fetched): pg_stat_database for the bench database, the writer's share included; DB CPU: user + system time of the backends serving the bench database (/proc/<pid>/stat, 10 ms ticks).",
      "Polling costs one log read per instance per second, so it grows with the instance count. The LISTEN feed replaces that poll with a NOTIFY-driven read plus a 5 s safety poll, but each instance's feed asks its LISTEN connection a `SELECT 1` every second (postgresChangeFeed's heartbeatMs), so its database cost also grows linearly with instances: the heartbeat costs about what the poll did. A feed whose database cost does not grow with the instance count needs the wake-ups off the database (Redis pub/sub: " + (redis ? "present, not wired into this table yet)." : "not on main yet; hook in bench/scale/polling.ts)."),
    ],
  };
}
