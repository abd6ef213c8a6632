import type { ChangeLog, RegistryChange } from "../engine/ports";
import type { RawSqlClient } from "./prisma-sessions";
import { isPostgres } from "./sql-dialect";

/** Rows older than this (seconds) are pruned now and then: a process that slept longer resyncs from scratch. */
const KEEP_SECONDS = 24 * 60 * 60;

/**
 * The registry's change log in the `KitChange` table (migration 0003), for
 * `cachedSessionRegistry()` (`claims-kit/plugin`). One INSERT per change; one indexed range read per sync.
 *
 * @example
 * ```ts
 * const sessions = cachedSessionRegistry(prismaSessionRegistry(prisma), { changes: prismaChangeLog(prisma), feed });
 * ```
 */
export function prismaChangeLog(db: RawSqlClient): ChangeLog {
  let appended = 0;
  const log: ChangeLog = {
    async append(kind, key, now) {
      const rows = await db.$queryRaw<Array<{ seq: number | bigint }>>`INSERT INTO "KitChange" ("kind", "key", "at") VALUES (${kind}, ${key}, ${now}) RETURNING "seq"`;
      // Now and then, a batch of old rows (as many as were appended since): the table stays bounded
      // even where nothing runs kit.sessions.purge().
      if (++appended % 500 === 0) await log.purge!(now - KEEP_SECONDS, 500);
      return rows[0] ? Number(rows[0].seq) : undefined;
    },
    async since(seq, limit) {
      const rows = await db.$queryRaw<Array<{ seq: number | bigint; kind: string; key: string }>>`
        SELECT "seq", "kind", "key" FROM "KitChange" WHERE "seq" > ${seq} ORDER BY "seq" LIMIT ${limit}`;
      return rows.map((r) => ({ seq: Number(r.seq), kind: r.kind as RegistryChange["kind"], key: r.key }));
    },
    async earliest() {
      const rows = await db.$queryRaw<Array<{ seq: number | bigint | null }>>`SELECT MIN("seq") AS "seq" FROM "KitChange"`;
      return Number(rows[0]?.seq ?? 0);
    },
    async latest() {
      const rows = await db.$queryRaw<Array<{ seq: number | bigint | null }>>`SELECT MAX("seq") AS "seq" FROM "KitChange"`;
      return Number(rows[0]?.seq ?? 0);
    },
    async purge(before, limit) {
      // Never the newest row: every reader's position must stay in the log (see log-view.ts). The
      // batch in "at" order (its index), so the scan stops at the limit or the first recent row.
      return (await isPostgres(db))
        ? db.$executeRaw`
            DELETE FROM "KitChange" WHERE "seq" = ANY(ARRAY(
              SELECT "seq" FROM "KitChange" WHERE "at" < ${before} AND "seq" < (SELECT MAX("seq") FROM "KitChange") ORDER BY "at" LIMIT ${limit}))`
        : db.$executeRaw`
            DELETE FROM "KitChange" WHERE "seq" IN (
              SELECT "seq" FROM "KitChange" WHERE "at" < ${before} AND "seq" < (SELECT MAX("seq") FROM "KitChange") ORDER BY "at" LIMIT ${limit})`;
    },
  };
  return log;
}
