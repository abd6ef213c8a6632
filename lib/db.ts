import type { PrismaClient } from "./generated/prisma/client";
import { createPrismaClient } from "./db-client";

export { createPrismaClient, databaseKind } from "./db-client";

function createClient(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set (run through npm scripts, or see README)");
  return createPrismaClient(url);
}

const globalForPrisma = globalThis as unknown as { prisma?: PrismaClient };

/** One client per process (Next dev reloads modules; a new client per reload leaks connections). */
export const prisma: PrismaClient = globalForPrisma.prisma ?? createClient();
if (process.env.NODE_ENV !== "production") globalForPrisma.prisma = prisma;
