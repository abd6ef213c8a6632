// `npm run db:migrate`: apply the committed migrations to DATABASE_URL, in order, each once, each
// in a transaction, recorded in "_kit_migrations":
//   1. the app's own tables: prisma/migrations (SQLite) or prisma/postgres/migrations;
//   2. the claims kit's tables and columns, exactly as the package ships them:
//      lib/claims-kit/prisma/migrations/<sqlite|postgresql>/*.sql.
// One runner for both databases: Prisma 6.19's offline engine cannot migrate PostgreSQL
// (prisma/orm#27403), and the kit's SQL is plain files, not Prisma migration folders.
import { existsSync, readdirSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { databaseKind } from "../app/_lib/db-client";

const ROOT = path.resolve(import.meta.dirname, "..");

interface Migration {
  name: string;
  sql: string;
}

/** Every migration for a dialect, app first, then the kit's. */
export function migrationsFor(dialect: "sqlite" | "postgresql"): Migration[] {
  const appDir = dialect === "sqlite" ? path.join(ROOT, "prisma", "migrations") : path.join(ROOT, "prisma", "postgres", "migrations");
  const app = readdirSync(appDir)
    .filter((n) => /^\d+_/.test(n))
    .sort()
    .map((n) => ({ name: `app/${n}`, sql: readFileSync(path.join(appDir, n, "migration.sql"), "utf8") }));
  const kitDir = path.join(ROOT, "lib", "claims-kit", "prisma", "migrations", dialect);
  const kit = readdirSync(kitDir)
    .filter((n) => /^\d+_.*\.sql$/.test(n))
    .sort()
    .map((n) => ({ name: `claims-kit/${n.replace(/\.sql$/, "")}`, sql: readFileSync(path.join(kitDir, n), "utf8") }));
  return [...app, ...kit];
}

const LEDGER = 'CREATE TABLE IF NOT EXISTS "_kit_migrations" ("name" TEXT PRIMARY KEY, "appliedAt" TEXT NOT NULL)';
const LEGACY = "was migrated by an older version of the reference app (before the claims kit shipped its own migrations)";

export function migrateSqlite(url: string, log: (line: string) => void = console.log): string[] {
  const file = url.slice("file:".length);
  const probe = existsSync(file) ? new Database(file, { readonly: true }) : null;
  const legacy = probe?.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('_prisma_migrations', '_kit_migrations')`).all().map((r) => (r as { name: string }).name);
  probe?.close();
  if (legacy?.includes("_prisma_migrations") && !legacy.includes("_kit_migrations")) {
    // A demo database (seeded data only): kept aside, and a fresh one made.
    const aside = `${file}.legacy-${Date.now()}`;
    renameSync(file, aside);
    log(`the database ${LEGACY}; moved to ${aside}, creating a new one`);
  }
  const db = new Database(file);
  try {
    db.exec(LEDGER);
    const done = new Set(db.prepare('SELECT "name" FROM "_kit_migrations"').all().map((r) => (r as { name: string }).name));
    const all = migrationsFor("sqlite");
    const applied: string[] = [];
    for (const m of all.filter((x) => !done.has(x.name))) {
      db.transaction(() => {
        db.exec(m.sql);
        db.prepare('INSERT INTO "_kit_migrations" ("name", "appliedAt") VALUES (?, ?)').run(m.name, new Date().toISOString());
      })();
      applied.push(m.name);
      log(`applied ${m.name}`);
    }
    log(`${all.length} migration(s) found, ${applied.length} applied`);
    return applied;
  } finally {
    db.close();
  }
}

export async function migratePostgres(url: string, log: (line: string) => void = console.log): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const applied: string[] = [];
  try {
    // Two deploys at once wait for each other.
    await client.query("SELECT pg_advisory_lock(7243101)");
    await client.query(LEDGER);
    const done = new Set((await client.query<{ name: string }>('SELECT "name" FROM "_kit_migrations"')).rows.map((r) => r.name));
    if ([...done].some((name) => !name.includes("/"))) throw new Error(`this PostgreSQL database ${LEGACY}: drop it or point DATABASE_URL at a new one`);
    const all = migrationsFor("postgresql");
    for (const m of all.filter((x) => !done.has(x.name))) {
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO "_kit_migrations" ("name", "appliedAt") VALUES ($1, $2)', [m.name, new Date().toISOString()]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${m.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      applied.push(m.name);
      log(`applied ${m.name}`);
    }
    log(`${all.length} migration(s) found, ${applied.length} applied`);
  } finally {
    await client.query("SELECT pg_advisory_unlock(7243101)").catch(() => undefined);
    await client.end();
  }
  return applied;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set");
  if (databaseKind(url) === "sqlite") migrateSqlite(url);
  else await migratePostgres(url);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
