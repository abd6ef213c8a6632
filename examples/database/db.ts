// The app's Prisma client: Prisma 6.19's JS engine over the better-sqlite3 driver adapter, generated
// from prisma/schema.prisma into prisma/generated (`npm run db:generate`).
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "./prisma/generated/prisma/client";

/**
 * `next build` imports this module with an empty environment (no DATABASE_URL): it then gets a
 * stand-in that fails on first use, naming the variable. `next start` checks the variable at boot
 * (instrumentation.ts), so a running server never has the stand-in.
 */
function createClient(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (url) return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url }) });
  const fail = () => {
    throw new Error("DATABASE_URL is not set");
  };
  const delegate = new Proxy(fail, { get: fail, apply: fail });
  return new Proxy({} as PrismaClient, { get: (_target, prop) => (prop === "then" ? undefined : delegate) });
}

const globalForPrisma = globalThis as unknown as { prisma?: PrismaClient };

/** One client per process (`next dev` reloads modules; a client per reload would leak connections). */
export const prisma: PrismaClient = (globalForPrisma.prisma ??= createClient());
