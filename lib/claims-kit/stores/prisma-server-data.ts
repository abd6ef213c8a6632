import type { ServerDataStore } from "../core/types";

/**
 * Merge a patch into stored data: `null` deletes a key, `undefined` leaves it.
 *
 * @example
 * ```ts
 * mergePatch({ a: 1, b: 2 }, { a: null, c: 3 }); // { b: 2, c: 3 }
 * ```
 */
export function mergePatch(base: Record<string, unknown> | null, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete merged[name];
    else if (value !== undefined) merged[name] = value;
  }
  return merged;
}

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

/**
 * An in-memory store, for tests and single-process demos without a database.
 *
 * @example
 * ```ts
 * claimsKit({ serverStore: memoryServerDataStore(), plugins })
 * ```
 */
export function memoryServerDataStore(): ServerDataStore & { size(): number } {
  const rows = new Map<string, string>();
  return {
    async read(key) {
      const raw = rows.get(key);
      return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
    },
    async write(key, _userId, patch) {
      const raw = rows.get(key);
      rows.set(key, JSON.stringify(mergePatch(raw ? (JSON.parse(raw) as Record<string, unknown>) : null, patch)));
    },
    async remove(key) {
      rows.delete(key);
    },
    size: () => rows.size,
  };
}
