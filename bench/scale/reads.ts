// Section 1, reads at scale: seeded sessions read through the kit in 1 or 4 worker processes,
// uniform (or Zipf) traffic, every read going to a random process with the session's latest cookie
// (the browser keeps what the last response set). Counted: every statement each process sent
// (the relay), split into the reads that reloaded claims (the reload moments) and everything else;
// reloads per second against the bound sessions / maxAge, and how evenly they fall.
import { fmt, type Table } from "../report";
import type { Context } from "./context";
import type { Kind } from "./worker";
import { phaseOf } from "../../lib/claims-kit/engine/schedule";
import { sessionIdOf } from "./seed";
import { perSecond, seeded, wallMs, zipf } from "./util";

export interface Cell {
  sessions: number;
  processes: number;
  traffic: "uniform" | "zipf";
}

export const CELLS: Cell[] = [
  { sessions: 100, processes: 1, traffic: "uniform" },
  { sessions: 1000, processes: 1, traffic: "uniform" },
  { sessions: 3000, processes: 1, traffic: "uniform" },
  { sessions: 3000, processes: 4, traffic: "uniform" },
  { sessions: 3000, processes: 4, traffic: "zipf" },
];

/** The app's claims maxAge (CLAIMS_MAX_AGE default) and verifyEvery: one reload per session per period. */
const MAX_AGE = 300;
const WARMUP = 300;

export interface CellResult {
  cell: Cell;
  reads: number;
  seconds: number;
  total: number;
  outside: number;
  reloads: number;
  reloadStatements: number;
  byKind: Record<string, number>;
  cpuPerRead: number;
  reloadRate: number;
  /** Sessions whose phase point fell in the window, per second: when the schedule makes them due. */
  phaseRate: number;
  reloadMaxPerSecond: number;
  registry: { hits: number; coldHits: number; misses: number };
  refused: number;
}

export async function runCell(ctx: Context, cell: Cell, reads: number): Promise<CellResult> {
  await ctx.ensureSessions(cell.sessions);
  const make = await ctx.cookies();
  const jar: string[] = [];
  for (let i = 0; i < cell.sessions; i++) jar.push(await make(i + 1));
  const { workers, close } = await ctx.workers(cell.processes);
  try {
    const random = seeded(cell.sessions * 31 + cell.processes);
    const pick = cell.traffic === "zipf" ? zipf(cell.sessions, 1, random) : () => Math.floor(random() * cell.sessions);
    let refused = 0;
    const drive = async (n: number, onRead?: (r: Awaited<ReturnType<(typeof workers)[number]["read"]>>) => void, next: () => number = pick) => {
      let issued = 0;
      await Promise.all(workers.map(async (w) => {
        while (issued < n) {
          issued++;
          const s = next();
          const r = await w.read(jar[s]!);
          if (r.cookie) jar[s] = r.cookie;
          else refused++;
          onRead?.(r);
        }
      }));
    };
    // Every session read once first, not counted: one whose phase point passed while its cookie
    // waited for the workers to start reloads here. A live app builds no such backlog; counted, it
    // put 5.6 reloads/s over the bound into the 3,000 × 4 window (15.6/s against 10).
    let inOrder = 0;
    await drive(cell.sessions, undefined, () => inOrder++);
    await drive(WARMUP);
    const before = await Promise.all(workers.map((w) => w.stats()));
    const relayBefore = workers.map((w) => w.statements());
    // The wall clock the workers stamp reads with (wallMs: performance's, not Date.now, which can step).
    const started = wallMs();
    let reloads = 0;
    let reloadStatements = 0;
    const reloadTimes: number[] = [];
    const outsideKinds: Record<string, number> = {};
    await drive(reads, (r) => {
      const count = Object.values(r.statements).reduce((a, b) => a + (b ?? 0), 0);
      if (r.statements.load) {
        reloads++;
        reloadStatements += count;
        reloadTimes.push(r.at);
      } else for (const [k, v] of Object.entries(r.statements)) outsideKinds[k] = (outsideKinds[k] ?? 0) + (v ?? 0);
    });
    const seconds = (wallMs() - started) / 1000;
    const after = await Promise.all(workers.map((w) => w.stats()));
    const total = workers.reduce((sum, w, i) => sum + w.statements() - relayBefore[i]!, 0);
    const delta = (k: Kind) => after.reduce((s, a, i) => s + a.statements[k] - before[i]!.statements[k], 0);
    const prismaTotal = (["check", "log", "touch", "load", "serverData", "vault", "other"] as Kind[]).reduce((s, k) => s + delta(k), 0);
    const byKind = { ...outsideKinds, "change-log reads": delta("log"), "feed and transactions (relay only)": total - prismaTotal };
    const reg = (k: "hits" | "coldHits" | "misses") => after.reduce((s, a, i) => s + (a.registry?.[k] ?? 0) - (before[i]!.registry?.[k] ?? 0), 0);
    const cpu = after.reduce((s, a, i) => s + a.cpuUs - before[i]!.cpuUs, 0);
    const spreadOf = perSecond(reloadTimes, started, seconds);
    // The schedule's own count: sessions whose phase point (whole seconds, as the kit's clock) lay
    // in the window. Hashed phases fall like random ones, so a window of a few seconds sees this
    // vary around the bound; reloads should follow it.
    const [from, to] = [Math.floor(started / 1000), Math.floor((started + seconds * 1000) / 1000)];
    let phasePoints = 0;
    for (let i = 1; i <= cell.sessions; i++) {
      const offset = Math.floor(phaseOf(sessionIdOf(i)) * MAX_AGE);
      for (let t = Math.floor((from - offset) / MAX_AGE) * MAX_AGE + offset; t < to; t += MAX_AGE) if (t >= from) phasePoints++;
    }
    return {
      cell, reads, seconds, total, outside: total - reloadStatements, reloads, reloadStatements, byKind,
      cpuPerRead: cpu / reads, reloadRate: reloads / seconds, phaseRate: phasePoints / Math.max(1, to - from), reloadMaxPerSecond: spreadOf.max,
      registry: { hits: reg("hits"), coldHits: reg("coldHits"), misses: reg("misses") }, refused,
    };
  } finally {
    await close();
  }
}

const per1000 = (n: number, reads: number) => (n / reads) * 1000;

export function readsTable(results: CellResult[], reads: number): Table {
  const rows = results.map((r) => {
    const bound = r.cell.sessions / MAX_AGE;
    const breakdown = Object.entries(r.byKind).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${fmt(per1000(v, r.reads), 1)}`).join(", ");
    return [
      `${r.cell.sessions.toLocaleString("en-US")} × ${r.cell.processes}${r.cell.traffic === "zipf" ? " (Zipf s=1)" : ""}`,
      fmt(per1000(r.outside, r.reads), 1),
      fmt(per1000(r.total, r.reads), 1),
      breakdown || "—",
      `${fmt(r.reloadRate, 2)} / ${fmt(r.phaseRate, 2)} / ${fmt(bound, 2)}`,
      r.reloads ? `${r.reloadMaxPerSecond} (${fmt(r.reloadMaxPerSecond / Math.max(r.reloadRate, 1e-9), 1)}× mean)` : "—",
      r.reloads ? fmt(r.reloadStatements / r.reloads, 1) : "—",
      `${r.registry.hits} / ${r.registry.coldHits} / ${r.registry.misses}`,
      fmt(r.cpuPerRead, 0),
      fmt(r.reads / r.seconds, 0),
    ];
  });
  const goal = results.find((r) => r.cell.sessions === 3000 && r.cell.processes === 4 && r.cell.traffic === "uniform");
  return {
    title: `Reads at scale: queries per 1,000 session reads (PostgreSQL, ${reads.toLocaleString("en-US")} reads per cell)`,
    columns: ["sessions × processes", "queries / 1,000 reads, outside reloads", "queries / 1,000 reads, all", "outside reloads, by kind (per 1,000 reads)", "reloads/s measured / due by the phases in the window / bound (sessions ÷ 300 s)", "busiest second's reloads", "statements per reload", "registry: hits / cold hits / queries", "CPU µs per read (all processes)", "reads/s"],
    numeric: [1, 2, 6, 8, 9],
    rows,
    notes: [
      "Driven in-process, not through `next start`: each process is a forked Node process running the reference app's composition (createAuth from auth.config.ts: the Prisma registry behind the registry cache, the KitChange log, the PostgreSQL LISTEN feed) and serving GET /api/auth/session as the app's route does (readSessionResponse: Auth.js's session action, the kit's codec, real sealed cookies). The bench is the browser: each read goes to a random process, one read in flight per process, with the session's latest cookie.",
      `Sessions were seeded directly (multi-row INSERTs: users, memberships, UserSession and SessionData rows) as signed in together at the start of the cell, their cookies sealed from a template sign-in's token. Not counted: a first pass reading every session once (a session whose phase point passed while the workers started reloads there, not in the window), then ${WARMUP} warm-up reads.`,
      "Queries: every statement each process sent to PostgreSQL, counted at the wire by a relay in front of it (Prisma's, the change feed's LISTEN, NOTIFY and 1 s heartbeats). A read during which a claims loader ran is a reload; its statements (the registry check, the loaders, the server-data read, the lastSeenAt touch) are the reload moments' share. \"Outside reloads\" is everything else: registry checks of reads that did not reload, change-log reads, the feed's heartbeats.",
      "Reload bound: each session reloads its claims once per CLAIMS_MAX_AGE (300 s) at its own phase (a hash of its id), so sessions ÷ 300 per second on average; in a window of a few seconds the phases that fall in it vary around that as random ones would (the middle figure counts them, for uniform traffic: every session is read within about a second of its phase point). The busiest whole second's count against the mean says how evenly they fall.",
      ...(goal ? [`Goal (issue #26): ≤ 10 queries per 1,000 reads at 3,000 × 4 uniform outside reloads: measured ${fmt(per1000(goal.outside, goal.reads), 1)} (${per1000(goal.outside, goal.reads) <= 10 ? "met" : "NOT met"}).`] : []),
      ...results.filter((r) => r.refused > 0).map((r) => `${r.cell.sessions} × ${r.cell.processes}: ${r.refused} reads were refused (expected none).`),
    ],
  };
}
