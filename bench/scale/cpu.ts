// Section 2, CPU and memory flat: one process, N seeded sessions all in its registry cache (each
// read from the registry once, as a first read that misses does), then a fixed number of session
// reads of random sessions: the process's CPU time per read, and its resident memory.
import { fmt, median, type Table } from "../report";
import type { Context } from "./context";
import { sessionIdOf } from "./seed";
import { seeded } from "./util";

const SAMPLE = 5000;
/** Reads before the measured ones (JIT warm-up: with 2,000 the first measured rounds were still falling). */
const WARMUP = 5000;
const BATCH = 1000;
const ROUNDS = 5;
/** cachedSessionRegistry's default `maxEntries` (lib/claims-kit/stores/registry-cache.ts). */
const MAX_ENTRIES = 100_000;

interface Row {
  sessions: number;
  cpu: number;
  cpuRounds: number[];
  rss: number;
  heap: number;
  warmSeconds: number;
  registry: { hits: number; coldHits: number; misses: number };
  statements: number;
  /** Claims-loader statements during the reads (sessions whose reload fell due meanwhile). */
  reloads: number;
}

async function measure(ctx: Context, n: number, log: (line: string) => void): Promise<Row> {
  await ctx.ensureSessions(n);
  const { workers, close } = await ctx.workers(1, {}, { gc: true });
  const w = workers[0]!;
  try {
    const t0 = Date.now();
    const sids = Array.from({ length: n }, (_, i) => sessionIdOf(i + 1));
    let found = 0;
    for (let i = 0; i < sids.length; i += 10_000) found += await w.call<number>("check", { sids: sids.slice(i, i + 10_000), concurrency: 8 });
    if (found !== n) throw new Error(`cpu: ${found} of ${n} seeded sessions found in the registry`);
    const warmSeconds = (Date.now() - t0) / 1000;
    log(`cpu: ${n} sessions cached in ${fmt(warmSeconds, 1)} s`);
    // Cookies as signed in now (after the warm-up of the cache): few reloads fall due during the reads.
    const make = await ctx.cookies();
    const random = seeded(n);
    const picks = Array.from({ length: SAMPLE + WARMUP }, () => 1 + Math.floor(random() * n));
    const jar = new Map<number, string>();
    for (const i of picks) if (!jar.has(i)) jar.set(i, await make(i));
    const batch = async (from: number, to: number) => {
      const slice = picks.slice(from, to);
      const out = await w.call<{ cookies: Array<string | null>; refused: number; cpuUs: number }>("readBatch", { cookies: slice.map((i) => jar.get(i)!) });
      if (out.refused) throw new Error(`cpu: ${out.refused} reads refused`);
      slice.forEach((i, k) => jar.set(i, out.cookies[k]!));
      return out.cpuUs / slice.length;
    };
    for (let k = 0; k < WARMUP; k += BATCH) await batch(k, k + BATCH);
    const before = await w.stats();
    const relay = w.statements();
    const cpuRounds: number[] = [];
    for (let r = 0; r < ROUNDS; r++) cpuRounds.push(await batch(WARMUP + r * BATCH, WARMUP + (r + 1) * BATCH));
    const after = await w.stats();
    const memory = await w.call<{ rss: number; heapUsed: number }>("gc");
    const reloads = after.statements.load - before.statements.load;
    const reg = (k: "hits" | "coldHits" | "misses") => (after.registry?.[k] ?? 0) - (before.registry?.[k] ?? 0);
    return {
      sessions: n, cpu: median(cpuRounds), cpuRounds, rss: memory.rss / 2 ** 20, heap: memory.heapUsed / 2 ** 20, warmSeconds,
      registry: { hits: reg("hits"), coldHits: reg("coldHits"), misses: reg("misses") }, statements: w.statements() - relay, reloads,
    };
  } finally {
    await close();
  }
}

export async function cpuTable(ctx: Context, sizes: number[], log: (line: string) => void): Promise<Table> {
  const rows: Row[] = [];
  for (const n of sizes) rows.push(await measure(ctx, n, log));
  const base = rows[0]!.cpu;
  const worst = Math.max(...rows.map((r) => Math.abs(r.cpu / base - 1)));
  return {
    title: "CPU and memory flat: one process, every seeded session in its registry cache",
    columns: ["sessions (seeded, cached)", "CPU µs per read (median of 5 × 1,000)", "vs the first row", "registry: hits / cold hits / queries", "statements during the reads", "RSS MB (after GC)", "JS heap MB"],
    numeric: [1, 2, 4, 5, 6],
    rows: rows.map((r) => [
      r.sessions.toLocaleString("en-US"), fmt(r.cpu, 0), `${r.cpu >= base ? "+" : ""}${fmt((r.cpu / base - 1) * 100, 1)}%`,
      `${r.registry.hits} / ${r.registry.coldHits} / ${r.registry.misses}`, `${r.statements} (${r.reloads} claims-loader)`, fmt(r.rss, 0), fmt(r.heap, 0),
    ]),
    notes: [
      `One worker process (the reference app's composition, see the reads table). Sessions seeded directly (multi-row INSERTs); each was read from the registry once through the cache (${rows.map((r) => `${fmt(r.warmSeconds, 0)} s`).join(", ")}), which keeps it as a first read that misses would. Then ${WARMUP.toLocaleString("en-US")} warm-up and ${SAMPLE.toLocaleString("en-US")} measured session reads (GET /api/auth/session through Auth.js's session action) of uniformly random sessions with their cookies; CPU: the process's user + system time over each batch of ${BATCH}, median of ${ROUNDS} (rounds: ${rows.map((r) => r.cpuRounds.map((x) => fmt(x, 0)).join("/")).join("; ")}).`,
      `Flat within ±15% of the first row (issue #26): largest deviation ${fmt(worst * 100, 1)}% (${worst <= 0.15 ? "met" : "NOT met"}).`,
      `The registry cache's size limit: maxEntries, default ${MAX_ENTRIES.toLocaleString("en-US")} cached sessions (oldest dropped first), and as many sessions and users remembered as changed; the last row holds it full. Cached entries older than entryTtlMs (10 s) are not served as hits: those reads are answered from the cookie's hint (cold hits), also without a query. Statements during the reads: the change feed's 1 s heartbeat and the 5 s safety poll of the log.`,
    ],
  };
}
