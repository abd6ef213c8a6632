// `npm run db:migrate`: apply the committed migrations to DATABASE_URL.
// - SQLite: `prisma migrate deploy` (prisma/migrations), through the offline WASM engine.
// - PostgreSQL: Prisma 6.19's WASM engine cannot introspect PostgreSQL (prisma/orm#27403), so the
//   SQL of prisma/postgres/migrations is applied here, in order, each once, in a transaction,
//   under an advisory lock (two deploys at once wait for each other).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { databaseKind } from "../lib/db-client";

const ROOT = path.resolve(import.meta.dirname, "..");

export async function migratePostgres(url: string, log: (line: string) => void = console.log): Promise<string[]> {
  const dir = path.join(ROOT, "prisma", "postgres", "migrations");
  const names = readdirSync(dir).filter((n) => /^\d+_/.test(n)).sort();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query("SELECT pg_advisory_lock(7243101)");
    await client.query('CREATE TABLE IF NOT EXISTS "_kit_migrations" ("name" TEXT PRIMARY KEY, "appliedAt" TIMESTAMPTZ NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ name: string }>('SELECT "name" FROM "_kit_migrations"')).rows.map((r) => r.name));
    for (const name of names.filter((n) => !done.has(n))) {
      await client.query("BEGIN");
      try {
        await client.query(readFileSync(path.join(dir, name, "migration.sql"), "utf8"));
        await client.query('INSERT INTO "_kit_migrations" ("name") VALUES ($1)', [name]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK");
        throw new Error(`migration ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      applied.push(name);
      log(`applied ${name}`);
    }
    log(`${names.length} migration(s) found, ${applied.length} applied`);
  } finally {
    await client.query("SELECT pg_advisory_unlock(7243101)").catch(() => undefined);
    await client.end();
  }
  return applied;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set");
  if (databaseKind(url) === "sqlite") {
    execFileSync("bash", [path.join(ROOT, "scripts", "prisma.sh"), "migrate", "deploy"], { stdio: "inherit" });
    return;
  }
  await migratePostgres(url);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
