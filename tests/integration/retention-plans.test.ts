// Retention's batches stay bounded (kit.sessions.purge, issue #26): the database's own plan of each
// statement a purge sends, on tables big enough for the planner to prefer a sequential scan if a
// statement let it (SQLite, or PostgreSQL with KIT_TEST_DB=postgres; planner settings as the server
// has them, enable_seqscan on). `npm run bench:scale` found each 500-row DELETE planned as a join
// over a sequential scan of the whole table, and the expiry reading every due row to update 500:
// the cost of a batch grew with the table. A batch must read its rows through an index, stopped by
// its LIMIT. Timings are in bench/scale/purge-plans.ts; this pins the plan shape only.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { PrismaClient } from "../../prisma/generated/prisma/client";
import { prismaChangeLog, prismaReplayStore, prismaSecurityEventLog, prismaServerDataStore, prismaSessionRegistry, type RawSqlClient } from "../../lib/claims-kit/prisma";
import { freshDatabase, TEST_DB } from "./harness";

const ROWS = 40_000;
/** One row in 8 is due in each table: more than a batch, far less than the table. */
const DUE = (i: string) => `${i} % 8 = 0`;
const BATCH = 500;
const NOW = 2_000_000_000;
const OLD = NOW - 90 * 24 * 60 * 60;

let db: { url: string; drop: () => Promise<void> };
let prisma: PrismaClient;
/** The statements Prisma itself sent (the server data store goes through its delegate). */
const sent: Array<{ query: string; params: string }> = [];

/** Every row 1..ROWS of a table, from one INSERT … SELECT (a recursive CTE: the same SQL for both databases). */
const numbered = (insert: string) => `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS}) ${insert}`;

before(async () => {
  db = await freshDatabase();
  const { createPrismaClient } = await import("../../app/_lib/db-client");
  prisma = createPrismaClient(db.url, { logQueries: true });
  (prisma as unknown as { $on(event: "query", fn: (e: { query: string; params: string }) => void): void }).$on("query", (e) => void sent.push(e));
  const { seed } = await import("../../prisma/seed-data");
  await seed(prisma);
  const userId = (await prisma.user.findFirstOrThrow({ where: { email: "alice@example.com" } })).id;
  // Sessions: one in 8 unused since OLD (due to expire), one in 8 ended at OLD (due to be deleted), the rest live and recent.
  await prisma.$executeRawUnsafe(numbered(`INSERT INTO "UserSession" ("id", "userId", "createdAt", "lastSeenAt", "revokedAt")
    SELECT 's' || i, '${userId}', ${OLD}, CASE WHEN ${DUE("i")} THEN ${OLD} ELSE ${NOW} - i END, CASE WHEN ${DUE("(i + 1)")} THEN ${OLD} ELSE NULL END FROM n`));
  await prisma.$executeRawUnsafe(numbered(`INSERT INTO "KitChange" ("kind", "key", "at") SELECT 'session', 's' || i, CASE WHEN ${DUE("i")} THEN ${OLD} + i ELSE ${NOW} + i END FROM n`));
  await prisma.$executeRawUnsafe(numbered(`INSERT INTO "KitReplay" ("key", "expiresAt") SELECT 'k' || i, CASE WHEN ${DUE("i")} THEN ${OLD} ELSE ${NOW} + 600 END FROM n`));
  await prisma.$executeRawUnsafe(numbered(`INSERT INTO "KitSecurityEvent" ("id", "issuer", "jti", "type", "userId", "issuedAt", "receivedAt", "outcome")
    SELECT 'e' || i, 'https://issuer.example', 'j' || i, 'session-revoked', NULL, ${OLD}, CASE WHEN ${DUE("i")} THEN ${OLD} ELSE ${NOW} END, 'revoked' FROM n`));
  // Through Prisma: the DateTime column is stored as Prisma stores it.
  const day = 24 * 60 * 60 * 1000;
  for (let from = 0; from < ROWS; from += 5000) {
    await prisma.sessionData.createMany({
      data: Array.from({ length: 5000 }, (_, k) => from + k).map((i) => ({ key: `s:s${i}`, userId, data: "{}", expiresAt: new Date(i % 8 === 0 ? OLD * 1000 : NOW * 1000 + day) })),
    });
  }
  await prisma.$executeRawUnsafe("ANALYZE");
});

after(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

interface Plan {
  /** Whole-table scans of `table` (PostgreSQL "Seq Scan", SQLite "SCAN"). */
  fullScans: string[];
  /** Sorts of the rows read (PostgreSQL "Sort", SQLite "USE TEMP B-TREE FOR ORDER BY"): all due rows read, not a batch. */
  sorts: string[];
  hasLimit: boolean;
  text: string;
}

interface PgNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PgNode[];
}

/** The database's plan of `sql` with `values` bound, for `table`. */
async function planOf(sql: string, values: unknown[], table: string): Promise<Plan> {
  if (TEST_DB === "postgresql") {
    const rows = await prisma.$queryRawUnsafe<Array<{ "QUERY PLAN": unknown }>>(`EXPLAIN (FORMAT JSON) ${sql}`, ...values);
    const raw = rows[0]!["QUERY PLAN"];
    const root = ((typeof raw === "string" ? JSON.parse(raw) : raw) as Array<{ Plan: PgNode }>)[0]!.Plan;
    const nodes: PgNode[] = [];
    const walk = (n: PgNode) => void (nodes.push(n), n.Plans?.forEach(walk));
    walk(root);
    const name = (n: PgNode) => `${n["Node Type"]}${n["Index Name"] ? ` using ${n["Index Name"]}` : ""}${n["Relation Name"] ? ` on ${n["Relation Name"]}` : ""}`;
    return {
      fullScans: nodes.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === table).map(name),
      sorts: nodes.filter((n) => n["Node Type"].endsWith("Sort")).map(name),
      hasLimit: nodes.some((n) => n["Node Type"] === "Limit"),
      text: nodes.map(name).join(" > "),
    };
  }
  const rows = await prisma.$queryRawUnsafe<Array<{ detail: string }>>(`EXPLAIN QUERY PLAN ${sql}`, ...values);
  const details = rows.map((r) => r.detail);
  return {
    fullScans: details.filter((d) => d === `SCAN ${table}` || d.startsWith(`SCAN ${table} `)),
    sorts: details.filter((d) => d.includes("TEMP B-TREE")),
    hasLimit: /\bLIMIT\b/i.test(sql),
    text: details.join(" | "),
  };
}

/**
 * A client that, for each UPDATE or DELETE, records the database's plan instead of running it
 * (anything else runs): the stores' own statements, exactly as they send them.
 */
function planning(table: string, plans: Array<Plan & { sql: string }>): RawSqlClient {
  const placeholder = (i: number) => (TEST_DB === "postgresql" ? `$${i}` : "?");
  const plan = async (strings: TemplateStringsArray, values: unknown[]) => {
    const sql = strings.reduce((text, part, i) => `${text}${placeholder(i)}${part}`);
    plans.push({ ...(await planOf(sql, values, table)), sql: sql.replace(/\s+/g, " ").trim() });
  };
  const writes = (strings: TemplateStringsArray) => /^\s*(UPDATE|DELETE)\b/.test(strings[0]!);
  return {
    $queryRaw: (async (strings: TemplateStringsArray, ...values: unknown[]) => (writes(strings) ? (await plan(strings, values), []) : prisma.$queryRaw(strings, ...values))) as RawSqlClient["$queryRaw"],
    $executeRaw: async (strings: TemplateStringsArray, ...values: unknown[]) => (writes(strings) ? (await plan(strings, values), 0) : prisma.$executeRaw(strings, ...values)),
  };
}

function assertBounded(plans: Array<Plan & { sql: string }>, what: string) {
  assert.equal(plans.length, 1, `${what}: one statement per batch`);
  const p = plans[0]!;
  assert.deepEqual(p.fullScans, [], `${what}: reads the whole table: ${p.text}\n${p.sql}`);
  assert.deepEqual(p.sorts, [], `${what}: sorts the rows it read instead of reading them in index order: ${p.text}\n${p.sql}`);
  assert.ok(p.hasLimit, `${what}: no LIMIT: ${p.text}\n${p.sql}`);
}

test(`purge batches read through an index, stopped at the batch (${TEST_DB}, ${ROWS} rows a table, 1 in 8 due)`, async () => {
  const steps: Array<[string, string, (db: RawSqlClient) => Promise<unknown>]> = [
    ["expire", "UserSession", (c) => prismaSessionRegistry(c).expire!(OLD + 1, NOW, BATCH)],
    ["purgeEnded", "UserSession", (c) => prismaSessionRegistry(c).purgeEnded!(OLD + 1, BATCH)],
    ["change log", "KitChange", (c) => prismaChangeLog(c).purge!(OLD + ROWS + 1, BATCH)],
    ["replay keys", "KitReplay", (c) => prismaReplayStore(c).purge!(OLD + 1, BATCH)],
    ["security events", "KitSecurityEvent", (c) => prismaSecurityEventLog(c).purge!(OLD + 1, BATCH)],
  ];
  for (const [what, table, run] of steps) {
    const plans: Array<Plan & { sql: string }> = [];
    await run(planning(table, plans));
    assertBounded(plans, what);
  }

  // Expired server data: the batch's keys come from the store's SELECT (Prisma's SQL, as sent).
  sent.length = 0;
  const store = prismaServerDataStore(prisma.sessionData);
  const removed = await store.purge!(new Date((OLD + 1) * 1000), BATCH);
  assert.equal(removed, BATCH, "a full batch of expired rows deleted");
  const select = sent.find((s) => /^SELECT\b/.test(s.query) && /\bSessionData\b/.test(s.query));
  assert.ok(select, `the store's SELECT of expired keys: ${sent.map((s) => s.query).join("\n")}`);
  const params = (JSON.parse(select.params) as unknown[]).map((v) => (TEST_DB === "postgresql" && typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v) ? new Date(v) : v));
  assertBounded([{ ...(await planOf(select.query, params, "SessionData")), sql: select.query }], "expired server data");
});
