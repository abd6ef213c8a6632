import type { PrismaClient } from "../../prisma/generated/prisma/client";
import { createPrismaClient } from "./db-client";
import { env } from "./env";

export { createPrismaClient, databaseKind } from "./db-client";

const MISSING = "DATABASE_URL is not set (run through npm scripts, or see README)";

/**
 * Without DATABASE_URL (e.g. `next build` in an image that gets its secrets at run time) the
 * client is a stand-in: importing this module works, any query fails naming the variable.
 */
function unconfigured(): PrismaClient {
  const fail = () => {
    throw new Error(MISSING);
  };
  const delegate = new Proxy(fail, { get: () => fail, apply: fail });
  return new Proxy({} as PrismaClient, { get: (_target, prop) => (prop === "then" ? undefined : delegate) });
}

function createClient(): PrismaClient {
  return env.DATABASE_URL ? createPrismaClient(env.DATABASE_URL) : unconfigured();
}

const globalForPrisma = globalThis as unknown as { prisma?: PrismaClient };

/** One client per process (Next dev reloads modules; a new client per reload leaks connections). */
export const prisma: PrismaClient = globalForPrisma.prisma ?? createClient();
if (env.NODE_ENV !== "production" && env.DATABASE_URL) globalForPrisma.prisma = prisma;
