// `npm run bench:scale`: the kit at scale on PostgreSQL (issue #26), printed as markdown tables and
// saved to bench/results/<date>-scale.json and .md. Needs PostgreSQL (TEST_POSTGRES_URL, default
// postgresql://postgres@127.0.0.1:5432/postgres): without one it says so and exits 0, as
// `npm run bench`'s PostgreSQL rows do, unless BENCH_SCALE_REQUIRE=1 (then exit 1). Run it alone
// (on the project's machines inside `flock /tmp/heavy.lock`): about 10 minutes on 2 cores. Redis
// (REDIS_URL, default redis://127.0.0.1:6379) fills the Redis columns of sections 3 and 5 when one answers.
//
//   npm run bench:scale                          every section
//   npm run bench:scale -- --only=reads,cpu      some sections: reads, cpu, revocation, refresh, polling, worst, retention
//   npm run bench:scale -- --reads=2000 --sessions=300   smaller (development); nothing saved
import { performance } from "node:perf_hooks";
import { ADMIN_URL, admin, freshPostgres } from "../postgres";
import { fmt, printTable, writeResults, type Table } from "../report";
import { createContext } from "./context";
import { cpuTable } from "./cpu";
import { pollingTable } from "./polling";
import { CELLS, readsTable, runCell, type CellResult } from "./reads";
import { refreshTable } from "./refresh";
import { retentionTables } from "./retention";
import { revocationTable } from "./revocation";
import { worstTable } from "./worst";

const SECTIONS = ["reads", "cpu", "revocation", "refresh", "polling", "worst", "retention"] as const;
type Section = (typeof SECTIONS)[number];

function flag(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function count(args: string[], name: string, fallback: number): number {
  const raw = flag(args, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}"`);
  return value;
}

const log = (line: string) => console.error(`bench:scale: ${line}`);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const onlyArg = flag(args, "only");
  const only = onlyArg ? onlyArg.split(",") : [...SECTIONS];
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(", ")}; sections: ${SECTIONS.join(", ")}`);
  const wants = (s: Section) => only.includes(s);
  // --sessions scales every section's session counts down (development runs): 3000 is the full size.
  const scale = count(args, "sessions", 3000) / 3000;
  const settings = {
    reads: count(args, "reads", 15_000),
    scale,
    cpuSessions: [1000, 10_000, 100_000].map((n) => Math.max(50, Math.round(n * scale))),
  };
  const partial = Boolean(onlyArg) || args.some((a) => a.startsWith("--reads=") || a.startsWith("--sessions="));

  try {
    await admin("SELECT 1");
  } catch (err) {
    const reason = `no PostgreSQL answers at ${new URL(ADMIN_URL).host} (${err instanceof Error ? err.message : String(err)}); set TEST_POSTGRES_URL`;
    if (process.env.BENCH_SCALE_REQUIRE === "1") {
      console.error(`bench:scale: ${reason}, and BENCH_SCALE_REQUIRE=1: failing`);
      process.exitCode = 1;
      return;
    }
    console.log(`bench:scale: skipped: ${reason}. Nothing was measured.`);
    return;
  }

  const started = performance.now();
  const tables: Table[] = [];
  const extra: Record<string, unknown> = {};
  const show = (t: Table) => {
    tables.push(t);
    printTable(t);
  };
  let failed = false;
  const section = async (name: Section, run: () => Promise<void>) => {
    if (!wants(name)) return;
    const t0 = performance.now();
    try {
      await run();
    } catch (err) {
      failed = true;
      process.exitCode = 1;
      console.error(`\nbench:scale: the ${name} section failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
    log(`${name} took ${fmt((performance.now() - t0) / 1000, 0)} s`);
  };

  const db = await freshPostgres("scale");
  try {
    const ctx = await createContext(db.url, log);
    await section("reads", async () => {
      const results: CellResult[] = [];
      for (const cell of CELLS) {
        const sized = { ...cell, sessions: Math.max(10, Math.round(cell.sessions * scale)) };
        results.push(await runCell(ctx, sized, settings.reads));
        log(`reads ${sized.sessions} × ${sized.processes} ${sized.traffic}: done`);
      }
      extra.reads = results;
      show(readsTable(results, settings.reads));
    });
    await section("cpu", async () => show(await cpuTable(ctx, settings.cpuSessions, log)));
    await section("revocation", async () => show(await revocationTable(ctx, scale, log)));
    await section("refresh", async () => show(await refreshTable(ctx, Math.max(20, Math.round(1000 * scale)), log)));
    await section("polling", async () => show(await pollingTable(ctx, scale, log)));
    await section("worst", async () => (await worstTable(ctx, scale, log)).forEach(show));
    await section("retention", async () => (await retentionTables(ctx, scale, log)).forEach(show));
  } finally {
    await db.drop();
  }

  const total = (performance.now() - started) / 1000;
  console.log(`\nbench:scale: total ${fmt(total / 60, 1)} min (${fmt(total, 0)} s)`);
  if (partial || failed) {
    console.log("(a partial run: results not saved)");
    return;
  }
  console.log(`Saved ${writeResults(tables, { ...settings, durationSeconds: Math.round(total) }, extra, "scale")}`);
}

await main();
