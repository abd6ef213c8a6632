// The retention purge's statements on PostgreSQL, one by one: how each batch is planned and what it
// costs, on the tables a simulated year leaves (year.ts, as section 7 of `npm run bench:scale` runs
// it, tables kept as run: no VACUUM FULL at the end). Not part of the scale run; for looking at plans.
//
//   tsx bench/scale/purge-plans.ts build <db> [--per-day=1375] [--days=120] [--users=5000]
//     a database <db> holding the year's first <days> days, each purged as of its end (the template)
//   tsx bench/scale/purge-plans.ts explain <db> [--after=1] [--batch=500] [--out=file]
//     on a copy of <db>: kit.sessions.purge() as of <after> days past the last one, every statement
//     it sends EXPLAIN (ANALYZE, BUFFERS)ed as it runs (auto_explain); a summary per statement shape
//   tsx bench/scale/purge-plans.ts time <db> [--after=1] [--runs=3]
//     the same purge without auto_explain, on a fresh copy each run: wall time in this process
//   tsx bench/scale/purge-plans.ts drop <db>
//
// The purge runs in this process with the reference app's composition (createAuth: the Prisma
// registry behind the registry cache, the server data store, the change log; replay keys and
// security events as the app's purge passes them), so it runs whatever the checkout's stores say.
import { writeFileSync } from "node:fs";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { ADMIN_URL } from "../postgres";
import { BENCH_SECRET } from "../servers";
import { NO_ISSUER } from "./context";
import { seedUsers, userIdOf, withClient } from "./seed";
import { KEEP_FOR, simulateYear } from "./year";

const DAY = 24 * 60 * 60;
/** About the template session's server data (97 B): the rows' width, not their content, matters here. */
const DATA = JSON.stringify({ avatar: "https://images.example/avatars/0123456789abcdef.png", bio: "bench", locale: "en" });

const [command, name, ...rest] = process.argv.slice(2);
const flags = Object.fromEntries(rest.map((a) => /^--([\w-]+)=(.*)$/.exec(a)).filter((m) => m !== null).map((m) => [m[1]!, m[2]!]));
const flag = (key: string, fallback: number) => (flags[key] === undefined ? fallback : Number(flags[key]));
if (!command || !name || !/^[a-z_][a-z0-9_]*$/.test(name)) {
  console.error("usage: purge-plans.ts build|explain|time|drop <database name> [--flags]");
  process.exit(2);
}
const urlOf = (db: string) => {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  return url.toString();
};
const admin = (sql: string) => withClient(ADMIN_URL, (c) => c.query(sql));

interface Meta {
  t0: number;
  days: number;
  perDay: number;
}

async function build(): Promise<void> {
  const days = flag("days", 120);
  const perDay = flag("per-day", 1375);
  const users = flag("users", 5000);
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${name}"`);
  const url = urlOf(name!);
  const { migratePostgres } = await import("../../scripts/db-migrate");
  await migratePostgres(url, () => {});
  const { createPrismaClient } = await import("../../app/_lib/db-client");
  const { seed } = await import("../../prisma/seed-data");
  const prisma = createPrismaClient(url);
  await seed(prisma);
  await prisma.$disconnect();
  const tenant = await withClient(url, async (c) => (await c.query<{ id: string }>(`SELECT "id" FROM "Tenant" ORDER BY "slug" LIMIT 1`)).rows[0]!.id);
  await seedUsers(url, tenant, 1, users + 1);
  const started = performance.now();
  const year = await simulateYear(url, { days, perDay, users, userId: userIdOf, data: DATA, issuer: NO_ISSUER, checkpoints: [days], log: console.log, compact: false });
  const meta: Meta = { t0: year.t0, days, perDay };
  await admin(`COMMENT ON DATABASE "${name}" IS '${JSON.stringify(meta)}'`);
  const ms = [...year.purgeMs].sort((a, b) => a - b);
  console.log(`built ${name}: ${year.sessions} sessions over ${days} days in ${((performance.now() - started) / 1000).toFixed(0)} s; daily purge p50 ${ms[ms.length >> 1]!.toFixed(0)} ms`);
}

async function metaOf(db: string): Promise<Meta> {
  const r = await withClient(ADMIN_URL, (c) => c.query<{ d: string | null }>(`SELECT shobj_description(oid, 'pg_database') AS d FROM pg_database WHERE datname = $1`, [db]));
  const text = r.rows[0]?.d;
  if (!text) throw new Error(`${db}: no such database, or not made by "build"`);
  return JSON.parse(text) as Meta;
}

/** A copy of the template (CREATE DATABASE … TEMPLATE: the same pages, dead rows and statistics). */
async function copyOf(db: string, settings: Record<string, string> = {}): Promise<{ url: string; drop: () => Promise<void> }> {
  const copy = `${db}_run`;
  await admin(`DROP DATABASE IF EXISTS "${copy}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${copy}" TEMPLATE "${db}"`);
  for (const [key, value] of Object.entries(settings)) await admin(`ALTER DATABASE "${copy}" SET ${key} = '${value}'`);
  return { url: urlOf(copy), drop: async () => void (await admin(`DROP DATABASE IF EXISTS "${copy}" WITH (FORCE)`)) };
}

async function purgeOnce(url: string, now: number, batchSize: number, onNotice?: (message: string) => void, onStart?: () => void) {
  const pool = new pg.Pool({ connectionString: url });
  pool.on("error", () => undefined);
  if (onNotice) pool.on("connect", (client) => void client.on("notice", (n) => onNotice(n.message ?? "")));
  const { PrismaClient } = await import("../../prisma/generated/prisma-pg/client");
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const { readEnv } = await import("../../app/_lib/env");
  const { createAuth } = await import("../../auth.config");
  const { inProcessChangeFeed } = await import("../../lib/claims-kit/plugin");
  const { prismaReplayStore, prismaSecurityEventLog } = await import("../../lib/claims-kit/prisma");
  const env = readEnv({ NODE_ENV: "production", DATABASE_URL: url, AUTH_SECRET: BENCH_SECRET, AUTH_OIDC_ISSUER: NO_ISSUER, AUTH_OIDC_ID: "bench-purge", AUTH_OIDC_SECRET: "bench-purge-secret", AUTH_TOKEN_MODE: "vault" });
  const db = prisma as unknown as Parameters<typeof createAuth>[1]["prisma"];
  const app = createAuth(env, { prisma: db, logger: { info() {}, warn: console.warn, error: console.error }, registryCache: { feed: inProcessChangeFeed(), pollMs: 3_600_000, safetyPollMs: 3_600_000 } as never });
  try {
    // Connected and warm (the first statement's connection set-up is not the purge's).
    await prisma.$queryRaw`SELECT 1`;
    onStart?.();
    const started = performance.now();
    const result = await app.kit.sessions.purge({ now, keepFor: KEEP_FOR, batchSize, replay: prismaReplayStore(db), events: prismaSecurityEventLog(db) });
    return { ...result, ms: performance.now() - started };
  } finally {
    await app.close();
    await prisma.$disconnect();
    await pool.end();
  }
}

/** One auto_explain message: its duration, statement, and the plan's lines. */
interface Explained {
  ms: number;
  sql: string;
  plan: string[];
}

function parse(message: string): Explained | null {
  const m = /^duration: ([\d.]+) ms\s+plan:\n([\s\S]*)$/.exec(message);
  if (!m) return null;
  const lines = m[2]!.split("\n");
  // The plan's root is the first unindented line with a cost; the statement's text is before it.
  const root = lines.findIndex((l, i) => i > 0 && /^\S.*\(cost=[\d.]+\.\.[\d.]+ rows=\d+ width=\d+\)/.test(l));
  if (root < 0) return null;
  const sql = lines.slice(0, root).join(" ").replace(/^Query Text:\s*/, "").replace(/\s+/g, " ").trim();
  return { ms: Number(m[1]), sql, plan: lines.slice(root) };
}

/** The statement's shape: parameters and list lengths out. */
const shapeOf = (sql: string) => sql.replace(/\$\d+(\s*,\s*\$\d+)*/g, "$…").slice(0, 160);

async function explain(): Promise<void> {
  const meta = await metaOf(name!);
  const after = flag("after", 1);
  const batch = flag("batch", 500);
  const now = meta.t0 + (meta.days + after) * DAY;
  const copy = await copyOf(name!, {
    session_preload_libraries: "auto_explain",
    "auto_explain.log_min_duration": "0",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    client_min_messages: "log",
  });
  const seen: Explained[] = [];
  let recording = false;
  try {
    const sizes = await withClient(copy.url, async (c) => {
      const out: Array<{ t: string; n: string; mb: string }> = [];
      for (const t of ["UserSession", "SessionData", "KitChange"]) {
        out.push((await c.query<{ t: string; n: string; mb: string }>(`SELECT $1::text AS t, (SELECT COUNT(*) FROM "${t}")::text AS n, round(pg_total_relation_size($2) / 1048576.0, 1)::text AS mb`, [t, `"${t}"`])).rows[0]!);
      }
      return out;
    });
    console.log(`${name}: day ${meta.days} of ${meta.perDay} sign-ins a day; ${sizes.map((s) => `${s.t} ${s.n} rows / ${s.mb} MB`).join(", ")}; purge as of day ${meta.days + after}, batches of ${batch}`);
    const result = await purgeOnce(copy.url, now, batch, (message) => {
      if (!recording) return;
      const e = parse(message);
      if (e && !/"seq" >/.test(e.sql)) seen.push(e);
    }, () => void (recording = true));
    recording = false;
    console.log(`purge: ${JSON.stringify({ ...result, ms: Math.round(result.ms) })} (wall time with auto_explain's ANALYZE on every statement)`);
  } finally {
    await copy.drop();
  }
  const groups = new Map<string, Explained[]>();
  for (const e of seen) groups.set(shapeOf(e.sql), [...(groups.get(shapeOf(e.sql)) ?? []), e]);
  for (const [shape, list] of groups) {
    const ms = list.map((e) => e.ms).sort((a, b) => a - b);
    const scans = [...new Set(list.flatMap((e) => e.plan.map((l) => /((?:Parallel )?(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan|Bitmap Index Scan)(?: Backward)?(?: using \S+)? on "?\w+"?)/.exec(l)?.[1]).filter((s): s is string => s !== undefined)))];
    console.log(`\n${list.length} × ${shape}\n  ms per statement: median ${ms[ms.length >> 1]!.toFixed(2)}, max ${ms.at(-1)!.toFixed(2)}, total ${ms.reduce((a, b) => a + b, 0).toFixed(1)}\n  scans: ${scans.join("; ")}`);
    const worst = list.reduce((a, b) => (b.ms > a.ms ? b : a));
    console.log(worst.plan.filter((l) => l.trim()).map((l) => `    ${l}`).join("\n"));
  }
  if (flags.out) writeFileSync(flags.out, seen.map((e) => `-- ${e.ms.toFixed(3)} ms\n${e.sql}\n${e.plan.join("\n")}\n`).join("\n"));
}

async function time(): Promise<void> {
  const meta = await metaOf(name!);
  const after = flag("after", 1);
  const runs = flag("runs", 3);
  const now = meta.t0 + (meta.days + after) * DAY;
  const all: number[] = [];
  for (let run = 0; run < runs; run++) {
    const copy = await copyOf(name!);
    try {
      const result = await purgeOnce(copy.url, now, flag("batch", 500));
      all.push(result.ms);
      console.log(`run ${run + 1}: ${result.ms.toFixed(0)} ms ${JSON.stringify({ ...result, ms: undefined })}`);
    } finally {
      await copy.drop();
    }
  }
  const sorted = [...all].sort((a, b) => a - b);
  console.log(`${name}: purge as of day ${meta.days + after}: median ${sorted[sorted.length >> 1]!.toFixed(0)} ms over ${runs} runs (${sorted.map((m) => m.toFixed(0)).join(", ")})`);
}

const commands: Record<string, () => Promise<void>> = { build, explain, time, drop: async () => void (await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)) };
if (!commands[command]) {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
await commands[command]!();
