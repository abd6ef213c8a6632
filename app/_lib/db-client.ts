// Prisma clients by database URL, without a process-wide instance (see app/_lib/db.ts for that).
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../../prisma/generated/prisma/client";
import { PrismaClient as PgPrismaClient } from "../../prisma/generated/prisma-pg/client";

/** Which database a `DATABASE_URL` names. */
export function databaseKind(url: string): "sqlite" | "postgresql" {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  throw new Error(`DATABASE_URL must be a SQLite "file:" URL or a "postgresql://" URL, got "${url.split(":")[0]}:..."`);
}

/**
 * A Prisma client for `url`, through the driver adapter that matches it. Both generated clients
 * come from one schema (scripts/prisma-generate.sh), so the app uses one type for either.
 */
export function createPrismaClient(url: string, options: { logQueries?: boolean } = {}): PrismaClient {
  const log = options.logQueries ? [{ emit: "event" as const, level: "query" as const }] : undefined;
  if (databaseKind(url) === "postgresql") {
    return new PgPrismaClient({ adapter: new PrismaPg({ connectionString: url }), log }) as unknown as PrismaClient;
  }
  return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url }), log });
}
