// Section 2, CPU and memory flat: one worker process per size, each with its N seeded sessions in
// its registry cache (each read from the registry once, as a first read that misses does), all
// alive at once, plus a second process of the first size (the control: what two processes of one
// size differ by); then rounds of session reads of random sessions, interleaved across the
// processes (1k, 1k', 10k, 100k, then 1k', 10k, 100k, 1k, ...), so that whatever else the machine
// does at a moment falls on every size alike. Per round: the process's CPU time per read, its main
// thread's and its other threads' (V8's GC helpers), and the GC pauses. Each process is compared
// with the first in the same round; the goal is judged on the median of those ratios and its 95%
// confidence interval. Then resident memory per process.
import { writeFileSync } from "node:fs";
import { percentile } from "../postgres";
import { fmt, median, type Table } from "../report";
import type { Context } from "./context";
import { sessionIdOf } from "./seed";
import { seeded } from "./util";

/** Reads per process before the measured ones (JIT warm-up: with 2,000 the first measured rounds were still falling). */
const WARMUP = 5000;
/** Reads per round: about 0.15 s, short enough that neighbouring rounds see the same machine. */
const BATCH = 500;
const ROUNDS = 40;
/** cachedSessionRegistry's default `maxEntries` (lib/claims-kit/stores/registry-cache.ts). */
const MAX_ENTRIES = 100_000;
/** The goal (issue #26): CPU per read within ±15% of the first row's. */
const FLAT = 0.15;

interface BatchResult {
  cookies: Array<string | null>;
  refused: number;
  cpuUs: number;
  wallMs: number;
  threads: { mainUs: number; othersUs: number } | null;
  gc: { minorMs: number; majorMs: number; minor: number; major: number };
}

/** One measured round of one process, per read (µs). */
interface Round {
  cpu: number;
  main: number;
  others: number;
  gcMinor: number;
  gcMajor: number;
  majors: number;
}

interface Row {
  sessions: number;
  control: boolean;
  rounds: Round[];
  rss: number;
  heap: number;
  fullGcMs: number;
  warmSeconds: number;
  registry: { hits: number; coldHits: number; misses: number };
  statements: number;
  reloads: number;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/**
 * The median of `values` with its distribution-free 95% confidence interval: the order statistics
 * around it that a binomial(n, ½) count of values below the true median reaches with 95%
 * probability (normal approximation; n = 40: the 14th and 27th of 40).
 */
export function medianWithInterval(values: readonly number[]): { p25: number; p50: number; p75: number; low: number; high: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const k = Math.max(0, Math.floor((n - 1.96 * Math.sqrt(n)) / 2));
  return { p25: percentile(sorted, 0.25), p50: median(sorted), p75: percentile(sorted, 0.75), low: sorted[k]!, high: sorted[n - 1 - k]! };
}

export async function cpuTable(ctx: Context, sizes: number[], log: (line: string) => void): Promise<Table> {
  await ctx.ensureSessions(Math.max(...sizes));
  const procs = [{ n: sizes[0]!, control: false }, { n: sizes[0]!, control: true }, ...sizes.slice(1).map((n) => ({ n, control: false }))];
  // The kit's clock held at one second for the whole section: no claims reload or registry
  // verification falls due during the reads. With the real clock, reads that reload (about 4 ms of
  // CPU each) are a share that grows with the distinct sessions read per reload period: a cost of
  // the traffic (the reads table's), not of how many sessions the cache holds.
  const clockMs = Math.floor(Date.now() / 1000) * 1000;
  const { workers, close } = await ctx.workers(procs.length, { clockMs }, { gc: true });
  try {
    // Every process fills its cache at once (the biggest takes the longest).
    const warmSeconds = await Promise.all(workers.map(async (w, k) => {
      const n = procs[k]!.n;
      const t0 = Date.now();
      let found = 0;
      for (let i = 0; i < n; i += 10_000) {
        const sids = Array.from({ length: Math.min(10_000, n - i) }, (_, j) => sessionIdOf(i + j + 1));
        found += await w.call<number>("check", { sids, concurrency: 8 });
      }
      if (found !== n) throw new Error(`cpu: ${found} of ${n} seeded sessions found in the registry`);
      const seconds = (Date.now() - t0) / 1000;
      log(`cpu: ${n} sessions cached in ${fmt(seconds, 1)} s`);
      return seconds;
    }));
    // Cookies as signed in at the held clock's second, after the cache warm-up.
    const make = await ctx.cookies(clockMs / 1000);
    const reads = WARMUP + ROUNDS * BATCH;
    const picks = procs.map(({ n, control }) => {
      const random = seeded(control ? n + 1 : n);
      return Array.from({ length: reads }, () => 1 + Math.floor(random() * n));
    });
    const jars: Array<Map<number, string>> = [];
    for (const list of picks) {
      const jar = new Map<number, string>();
      for (const i of list) if (!jar.has(i)) jar.set(i, await make(i));
      jars.push(jar);
    }
    const batch = async (k: number, from: number): Promise<BatchResult> => {
      const slice = picks[k]!.slice(from, from + BATCH);
      const out = await workers[k]!.call<BatchResult>("readBatch", { cookies: slice.map((i) => jars[k]!.get(i)!) });
      if (out.refused) throw new Error(`cpu: ${out.refused} reads refused`);
      slice.forEach((i, j) => jars[k]!.set(i, out.cookies[j]!));
      return out;
    };
    // The order turns each round: no process always reads first after the parent's pause, or last.
    const turn = (r: number, j: number) => (r + j) % procs.length;
    for (let r = 0; r < WARMUP / BATCH; r++) for (let j = 0; j < procs.length; j++) await batch(turn(r, j), r * BATCH);
    const before = await Promise.all(workers.map((w) => w.stats()));
    const relays = workers.map((w) => w.statements());
    const rounds: Round[][] = procs.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      for (let j = 0; j < procs.length; j++) {
        const k = turn(r, j);
        const out = await batch(k, WARMUP + r * BATCH);
        const per = (us: number) => us / BATCH;
        rounds[k]!.push({
          cpu: per(out.cpuUs), main: out.threads ? per(out.threads.mainUs) : NaN, others: out.threads ? per(out.threads.othersUs) : NaN,
          gcMinor: per(out.gc.minorMs * 1000), gcMajor: per(out.gc.majorMs * 1000), majors: out.gc.major,
        });
      }
    }
    const after = await Promise.all(workers.map((w) => w.stats()));
    const rows: Row[] = [];
    for (let k = 0; k < procs.length; k++) {
      const memory = await workers[k]!.call<{ rss: number; heapUsed: number; fullGcMs: number }>("gc");
      const reg = (name: "hits" | "coldHits" | "misses") => (after[k]!.registry?.[name] ?? 0) - (before[k]!.registry?.[name] ?? 0);
      rows.push({
        sessions: procs[k]!.n, control: procs[k]!.control, rounds: rounds[k]!, rss: memory.rss / 2 ** 20, heap: memory.heapUsed / 2 ** 20, fullGcMs: memory.fullGcMs, warmSeconds: warmSeconds[k]!,
        registry: { hits: reg("hits"), coldHits: reg("coldHits"), misses: reg("misses") },
        statements: workers[k]!.statements() - relays[k]!, reloads: after[k]!.statements.load - before[k]!.statements.load,
      });
    }
    if (process.env.BENCH_SCALE_CPU_RAW) writeFileSync(process.env.BENCH_SCALE_CPU_RAW, JSON.stringify(rows, null, 1));
    return table(rows);
  } finally {
    await close();
  }
}

function table(rows: Row[]): Table {
  const base = rows[0]!;
  // Each process against the first in the same round (the machine's state shared).
  const ratios = rows.map((row) => medianWithInterval(row.rounds.map((round, r) => round.cpu / base.rounds[r]!.cpu - 1)));
  const pct = (x: number) => `${x >= 0 ? "+" : ""}${fmt(x * 100, 1)}%`;
  const sizes = rows.map((row, k) => ({ row, ratio: ratios[k]! })).filter(({ row }, k) => k > 0 && !row.control);
  // Met when every interval lies within the goal; not met when one lies wholly outside it.
  const verdict = sizes.every(({ ratio }) => ratio.low >= -FLAT && ratio.high <= FLAT) ? "met"
    : sizes.some(({ ratio }) => ratio.low > FLAT || ratio.high < -FLAT) ? "NOT met"
    : "not decided (an interval straddles the bound)";
  const label = (row: Row) => `${row.sessions.toLocaleString("en-US")}${row.control ? " (control: a second process)" : ""}`;
  const control = rows.find((row) => row.control);
  return {
    title: "CPU and memory flat: one process per size, every seeded session in its registry cache",
    columns: [
      "sessions (seeded, cached)", `CPU µs per read: median (IQR) of ${ROUNDS} rounds`, "mean", "vs the first row in the same round: median [95% CI] (IQR)",
      "main thread / other threads µs", "GC pauses µs per read: minor / major (share of CPU)", "major GCs in the rounds; a full GC's ms", "registry: hits / cold hits / queries",
      "statements during the reads", "RSS MB (after GC)", "JS heap MB",
    ],
    numeric: [2, 9, 10],
    rows: rows.map((row, k) => {
      const cpu = medianWithInterval(row.rounds.map((r) => r.cpu));
      const gcMinor = mean(row.rounds.map((r) => r.gcMinor));
      const gcMajor = mean(row.rounds.map((r) => r.gcMajor));
      const cpuMean = mean(row.rounds.map((r) => r.cpu));
      const q = ratios[k]!;
      return [
        label(row), `${fmt(cpu.p50, 0)} (${fmt(cpu.p25, 0)}–${fmt(cpu.p75, 0)})`, fmt(cpuMean, 0),
        k === 0 ? "—" : `${pct(q.p50)} [${pct(q.low)}, ${pct(q.high)}] (${pct(q.p25)} to ${pct(q.p75)})`,
        `${fmt(median(row.rounds.map((r) => r.main)), 0)} / ${fmt(median(row.rounds.map((r) => r.others)), 0)}`,
        `${fmt(gcMinor, 1)} / ${fmt(gcMajor, 1)} (${fmt(((gcMinor + gcMajor) / cpuMean) * 100, 1)}%)`, `${row.rounds.reduce((a, r) => a + r.majors, 0)}; ${fmt(row.fullGcMs, 0)}`,
        `${row.registry.hits} / ${row.registry.coldHits} / ${row.registry.misses}`, `${row.statements} (${row.reloads} claims-loader)`, fmt(row.rss, 0), fmt(row.heap, 0),
      ];
    }),
    notes: [
      `Method: one worker process per size (the reference app's composition, see the reads table) and a second one of the first size, all alive at once, started with --expose-gc. Sessions seeded directly (multi-row INSERTs); each process read its sessions from the registry once through the cache (${rows.map((r) => `${fmt(r.warmSeconds, 0)} s`).join(", ")}), which keeps them as a first read that misses would. The kit's clock is held at one second, so no claims reload or registry verification falls due during the reads (their cost, about 4 ms of CPU per read that reloads, grows with the sessions read per reload period, see the reads table, not with the cache). Then ${WARMUP.toLocaleString("en-US")} warm-up reads and ${ROUNDS} measured rounds of ${BATCH} session reads (GET /api/auth/session through Auth.js's session action) of uniformly random sessions with their cookies per process, the rounds interleaved across the processes (one reads at a time, the order turning every round). CPU per read: the process's user + system time over a round / ${BATCH}; main thread and other threads (V8's GC helpers, libuv) from Linux's per-thread schedstat; GC pauses from perf_hooks "gc" entries (main-thread pause time, mean per read over the rounds; major includes incremental marking steps and weak callbacks; a full GC's ms: a forced one of the live heap after the rounds, what a major GC costs at that heap). Each process is compared with the first in the same round (the machine's load shared); the 95% confidence interval of the median of those ${ROUNDS} ratios is distribution-free (order statistics).`,
      `Flat within ±${FLAT * 100}% of the first row (issue #26): ${verdict}: ${sizes.map(({ row, ratio }) => `${row.sessions.toLocaleString("en-US")} ${pct(ratio.p50)} [${pct(ratio.low)}, ${pct(ratio.high)}]`).join(", ")}${control ? `; two processes of ${control.sessions.toLocaleString("en-US")} differ by ${pct(ratios[rows.indexOf(control)]!.p50)} (the method's own noise)` : ""}. The rounds themselves spread widely (the IQR columns): the machine's load comes in bursts, partly shorter than a round; the same-round ratios take out what neighbouring rounds share, and the median of ${ROUNDS} narrows the rest (its confidence interval).`,
      `The registry cache's size limit: maxEntries, default ${MAX_ENTRIES.toLocaleString("en-US")} cached sessions (oldest dropped first), and as many sessions and users remembered as changed; the last row holds it full. Cached entries older than entryTtlMs (10 s) are not served as hits: those reads are answered from the cookie's hint (cold hits), also without a query (by the measured rounds nearly every entry is older than that). Statements during the reads: the change feed's 1 s heartbeat and the 5 s safety poll of the log.`,
    ],
  };
}
