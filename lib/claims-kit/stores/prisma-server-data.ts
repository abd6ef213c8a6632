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
  /** By one key, or (retention) by a batch of keys; Prisma answers `{ count }`. */
  deleteMany(args: { where: { key: string | { in: string[] } } }): PromiseLike<unknown>;
  /**
   * Retention (`kit.sessions.purge`): a batch of expired keys, the oldest first (the "expiresAt"
   * index's order, so the scan stops at `take`). Without it, the store purges nothing.
   */
  findMany?(args: { where: { expiresAt: { lt: Date } }; orderBy: { expiresAt: "asc" }; select: { key: true }; take: number }): PromiseLike<Array<{ key: string }>>;
}

/** Rows a `deleteMany` reports it deleted (`{ count }` from Prisma; 0 when it says nothing). */
const countOf = (answer: unknown): number => (typeof (answer as { count?: unknown } | null)?.count === "number" ? (answer as { count: number }).count : 0);

/** An unchanged row's expiry is moved on at most this often (a day): it is written then, not on every reload. */
const EXPIRY_SLACK_MS = 24 * 60 * 60 * 1000;

/**
 * Server-side session data in a Prisma model (see {@link SessionDataDelegate}).
 *
 * @example
 * ```ts
 * claimsKit({ serverStore: prismaServerDataStore(prisma.sessionData), plugins })
 * ```
 */
export function prismaServerDataStore(delegate: SessionDataDelegate, clock: () => number = Date.now): ServerDataStore {
  async function readRow(key: string): Promise<{ data: Record<string, unknown>; expiresAt: Date | null } | null> {
    const row = await delegate.findUnique({ where: { key } });
    if (!row || (row.expiresAt && row.expiresAt.getTime() <= clock())) return null;
    const parsed: unknown = JSON.parse(row.data);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? { data: parsed as Record<string, unknown>, expiresAt: row.expiresAt } : null;
  }
  return {
    read: async (key) => (await readRow(key))?.data ?? null,
    async write(key, userId, patch, expiresAt) {
      const current = await readRow(key);
      const data = JSON.stringify(mergePatch(current?.data ?? null, patch));
      // A reload that loaded what is stored writes nothing, unless the expiry is due to move on.
      const fresh = current?.expiresAt && current.expiresAt.getTime() >= expiresAt.getTime() - EXPIRY_SLACK_MS;
      if (current && fresh && JSON.stringify(current.data) === data) return;
      await delegate.upsert({ where: { key }, create: { key, userId, data, expiresAt }, update: { data, expiresAt } });
    },
    async remove(key) {
      await delegate.deleteMany({ where: { key } });
    },
    async removeMany(keys) {
      return keys.length === 0 ? 0 : countOf(await delegate.deleteMany({ where: { key: { in: [...keys] } } }));
    },
    async purge(now, limit) {
      if (!delegate.findMany) return 0;
      // Ordered by expiry: without an order Prisma orders by the key, and PostgreSQL then read the
      // table in key order until it had a batch of expired rows (20,000 rows a batch at 147,000).
      const expired = await delegate.findMany({ where: { expiresAt: { lt: now } }, orderBy: { expiresAt: "asc" }, select: { key: true }, take: limit });
      return expired.length === 0 ? 0 : countOf(await delegate.deleteMany({ where: { key: { in: expired.map((r) => r.key) } } }));
    },
  };
}
