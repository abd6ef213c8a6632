// `npm run db:migrate`: bring the SQLite database at DATABASE_URL up to date. Each migration runs
// once, in a transaction, and is recorded in "_app_migrations":
//   1. this app's own, prisma/migrations/<name>/migration.sql (Auth.js's tables first);
//   2. claims-kit's, read from the INSTALLED package, exactly as it ships them:
//      node_modules/claims-kit/prisma/migrations/sqlite/<name>.sql.
// Updating the package adds its new files on the next run; files already applied never run again.
// Plain SQL through better-sqlite3: `prisma migrate deploy` only knows Prisma's own migration
// folders, and the kit's are plain files (the same ones serve apps that do not use Prisma Migrate).
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const app = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The installed package's SQLite migrations, wherever npm put the package. */
export function kitMigrationsDir() {
  const pkg = createRequire(import.meta.url).resolve("claims-kit/package.json");
  return path.join(path.dirname(pkg), "prisma", "migrations", "sqlite");
}

/** Every migration, in the order they apply: the app's, then the kit's. */
export function migrations() {
  const appDir = path.join(app, "prisma", "migrations");
  const own = readdirSync(appDir)
    .filter((name) => /^\d+_/.test(name))
    .sort()
    .map((name) => ({ name: `app/${name}`, sql: readFileSync(path.join(appDir, name, "migration.sql"), "utf8") }));
  const kitDir = kitMigrationsDir();
  const kit = readdirSync(kitDir)
    .filter((name) => /^\d+_.*\.sql$/.test(name))
    .sort()
    .map((name) => ({ name: `claims-kit/${name.replace(/\.sql$/, "")}`, sql: readFileSync(path.join(kitDir, name), "utf8") }));
  return [...own, ...kit];
}

/** Apply what `url` (`file:<path>`, relative to the working directory) has not had yet. */
export function migrate(url, log = (line) => process.stdout.write(`${line}\n`)) {
  if (!url?.startsWith("file:")) throw new Error(`DATABASE_URL must be a SQLite file: URL, got ${url ? `"${url.split(":")[0]}:..."` : "nothing"}`);
  const file = path.resolve(url.slice("file:".length));
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    db.exec('CREATE TABLE IF NOT EXISTS "_app_migrations" ("name" TEXT PRIMARY KEY, "appliedAt" TEXT NOT NULL)');
    const done = new Set(db.prepare('SELECT "name" FROM "_app_migrations"').pluck().all());
    log(`claims-kit migrations from ${kitMigrationsDir()}`);
    const all = migrations();
    const pending = all.filter((m) => !done.has(m.name));
    for (const m of pending) {
      db.transaction(() => {
        db.exec(m.sql);
        db.prepare('INSERT INTO "_app_migrations" ("name", "appliedAt") VALUES (?, ?)').run(m.name, new Date().toISOString());
      })();
      log(`applied ${m.name}`);
    }
    log(`${all.length} migrations, ${pending.length} applied now, in ${file}`);
  } finally {
    db.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    migrate(process.env.DATABASE_URL);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
