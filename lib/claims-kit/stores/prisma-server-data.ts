import { mergePatch } from "../engine/merge";
import type { ServerDataStore } from "../engine/ports";

/**
 * The slice of a Prisma delegate the store uses, for a model shaped like:
 * `model SessionData { key String @id; userId String; data String; expiresAt DateTime?; updatedAt DateTime @updatedAt }`.
 */
export interface SessionDataDelegate {
  findUnique(args: { where: { key: string } }): PromiseLike<{ data: string; expiresAt: Date | null } | null>;
  upsert(args: {
    where: { key: string };
    create: { key: string; userId: string; data: string; expiresAt: Date };
    update: { data: string; expiresAt: Date };
  }): PromiseLike<unknown>;
  deleteMany(args: { where: { key: string } }): PromiseLike<unknown>;
}

/**
 * Server-side session data in a Prisma model (see {@link SessionDataDelegate}).
 *
 * @example
 * ```ts
 * claimsKit({ serverStore: prismaServerDataStore(prisma.sessionData), plugins })
 * ```
 */
export function prismaServerDataStore(delegate: SessionDataDelegate, clock: () => number = Date.now): ServerDataStore {
  async function read(key: string): Promise<Record<string, unknown> | null> {
    const row = await delegate.findUnique({ where: { key } });
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= clock())) return null;
    const parsed: unknown = JSON.parse(row.data);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  }
  return {
    read,
    async write(key, userId, patch, expiresAt) {
      const data = JSON.stringify(mergePatch(await read(key), patch));
      await delegate.upsert({ where: { key }, create: { key, userId, data, expiresAt }, update: { data, expiresAt } });
    },
    async remove(key) {
      await delegate.deleteMany({ where: { key } });
    },
  };
}
