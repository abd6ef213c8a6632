// `npm run bench`: the hot path side by side with plain Auth.js, printed as tables and saved to
// bench/results/<date>.json and .md with the machine and versions. Nothing here is asserted:
// timings belong to the machine. Run it alone (on the project's machines: inside
// `flock /tmp/heavy.lock`): it builds and starts two Next.js servers and loads them.
//
//   npm run bench                      everything (about 5 minutes on 2 cores, builds included)
//   npm run bench -- --quick           fewer requests and one round, nothing saved
//   npm run bench -- --only=codec,cookie   skip the servers (in-process tables only)
//   npm run bench -- --only=postgres       the PostgreSQL rows alone (queries per read, revocation)
//   npm run bench -- --only=outage         refresh under a 60 s provider outage alone (saved on its own)
//   npm run bench -- --only=database       a database-strategy session read against plain Auth.js's (in process)
//   BENCH_REQUESTS, BENCH_PAGE_REQUESTS, BENCH_ROUNDS, BENCH_CONCURRENCY   override the HTTP settings
//   BENCH_REVOCATION_ROUNDS   revocation rounds (default 30); TEST_POSTGRES_URL   the PostgreSQL server
import type { JWT } from "@auth/core/jwt";
import { codecTable } from "./codec";
import { cookieTables } from "./cookie";
import { databaseTable } from "./database";
import { httpTables, type HttpSettings } from "./http";
import { fmt, printTable, writeResults, type Table } from "./report";
import { postgresTable } from "./postgres";
import { outageTable } from "./refresh-outage";
import { buildApps, buildReference } from "./servers";

const SECTIONS = ["http", "postgres", "database", "codec", "cookie", "outage"] as const;
type Section = (typeof SECTIONS)[number];

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  const onlyArg = args.find((a) => a.startsWith("--only="));
  const only = onlyArg ? onlyArg.slice("--only=".length).split(",") : [...SECTIONS];
  const unknown = only.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(", ")}; sections: ${SECTIONS.join(", ")}`);
  const wants = (s: Section) => only.includes(s);
  const settings: HttpSettings = {
    requests: positive("BENCH_REQUESTS", quick ? 300 : 2000),
    pageRequests: positive("BENCH_PAGE_REQUESTS", quick ? 150 : 1000),
    rounds: positive("BENCH_ROUNDS", quick ? 1 : 5),
    concurrency: positive("BENCH_CONCURRENCY", 4),
    warmup: quick ? 100 : 300,
  };

  const tables: Table[] = [];
  const show = (t: Table) => {
    tables.push(t);
    printTable(t);
  };
  const summary: Record<string, number> = {};
  let claims: JWT | undefined;
  let rounds: Record<string, number[]> = {};
  let revocationRounds: number[] | undefined;

  let failed = false;
  if (wants("http")) {
    try {
      buildApps();
      const http = await httpTables(settings);
      http.tables.forEach(show);
      for (const [path, ratio] of Object.entries(http.ratios)) summary[`cpu ratio ${path}`] = Number(ratio.toFixed(3));
      claims = http.referenceClaims ?? undefined;
      rounds = http.rounds;
    } catch (err) {
      // The in-process tables are still worth printing (e.g. while the app does not build).
      failed = true;
      process.exitCode = 1;
      console.error(`\nbench: the HTTP section failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (wants("postgres")) {
    try {
      if (!wants("http")) buildReference();
      const pgResult = await postgresTable(settings, positive("BENCH_REVOCATION_ROUNDS", quick ? 5 : 30));
      show(pgResult.table);
      if (pgResult.queriesPer1000 !== undefined) summary["queries per 1,000 session reads (PostgreSQL)"] = Number(pgResult.queriesPer1000.toFixed(2));
      if (pgResult.revocationMs) {
        summary["revocation p50 ms (PostgreSQL, A → B)"] = Number(pgResult.revocationMs.p50.toFixed(1));
        summary["revocation p99 ms (PostgreSQL, A → B)"] = Number(pgResult.revocationMs.p99.toFixed(1));
        revocationRounds = pgResult.revocationMs.rounds;
      }
    } catch (err) {
      failed = true;
      process.exitCode = 1;
      console.error(`\nbench: the PostgreSQL section failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  let databaseRounds: number[] | undefined;
  if (wants("database")) {
    try {
      const database = await databaseTable({ reads: quick ? 100 : 250, rounds: quick ? 5 : 21 });
      show(database.table);
      summary["cpu ratio database-strategy session read"] = Number(database.ratio.toFixed(3));
      summary["SQL statements per database-strategy read (kit)"] = database.queriesPerRead.kit;
      summary["SQL statements per database-strategy read (Auth.js)"] = database.queriesPerRead.authjs;
      databaseRounds = database.rounds;
    } catch (err) {
      failed = true;
      process.exitCode = 1;
      console.error(`\nbench: the database section failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (wants("codec")) {
    const codec = await codecTable(claims, claims ? "the reference app's real cookie for alice" : "alice's claims, synthetic");
    show(codec.table);
    summary["codec ratio (decode + encode)"] = Number(codec.ratio.toFixed(1));
  }
  if (wants("cookie")) (await cookieTables()).forEach(show);
  let outageRuns: Record<string, unknown> | undefined;
  if (wants("outage")) {
    try {
      const outage = await outageTable();
      show(outage.table);
      outageRuns = outage.runs;
    } catch (err) {
      failed = true;
      process.exitCode = 1;
      console.error(`\nbench: the outage section failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  console.log("\nSummary");
  for (const [key, value] of Object.entries(summary)) console.log(`  ${key}: ${fmt(value, 2)}`);
  // The outage table alone is a result of its own (no servers, no timings that belong to the machine).
  if (!quick && !failed && only.length === 1 && only[0] === "outage") {
    console.log(`\nSaved ${writeResults(tables, { readers: 50, outageSeconds: 60 }, { outageRuns }, "refresh-outage")}`);
    return;
  }
  if (quick || onlyArg || failed) {
    console.log("\n(a partial run: results not saved)");
    return;
  }
  console.log(`\nSaved ${writeResults(tables, { ...settings }, { summary, pairedRatios: { ...rounds, ...(databaseRounds ? { database: databaseRounds } : {}) }, revocationMs: revocationRounds, outageRuns })}`);
}

await main();
