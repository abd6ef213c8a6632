import type { SecurityEventLog, SecurityEventRecord } from "../engine/ports";
import type { RawSqlClient } from "./prisma-sessions";
import { isPostgres } from "./sql-dialect";

/** Rows older than this are dropped as new ones are recorded. */
const RETENTION_SECONDS = 30 * 24 * 60 * 60;
/** Text columns hold at most this much (the log is for reading, never a key). */
const MAX_TEXT = 255;

interface Row {
  id: string;
  issuer: string;
  jti: string;
  type: string;
  userId: string | null;
  issuedAt: number | bigint;
  receivedAt: number | bigint;
  outcome: string;
  sessions: number | bigint;
  detail: string | null;
}

const cut = (text: string) => (text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);

/**
 * A {@link SecurityEventLog} over the table `KitSecurityEvent` (migration `0006_ssf_events`): one
 * row per received event and user it affected, kept 30 days. A user's list and the newest row of
 * an outcome are each one indexed query.
 *
 * @example
 * ```ts
 * sharedSignals(() => ({ kit, issuer, audience, replay: prismaReplayStore(prisma), events: prismaSecurityEventLog(prisma) }))
 * ```
 */
export function prismaSecurityEventLog(db: RawSqlClient): SecurityEventLog {
  return {
    async record(rows, now) {
      await db.$executeRaw`DELETE FROM "KitSecurityEvent" WHERE "receivedAt" < ${now - RETENTION_SECONDS}`;
      for (const r of rows) {
        await db.$executeRaw`
          INSERT INTO "KitSecurityEvent" ("id", "issuer", "jti", "type", "userId", "issuedAt", "receivedAt", "outcome", "sessions", "detail")
          VALUES (${r.id}, ${cut(r.issuer)}, ${cut(r.jti)}, ${cut(r.type)}, ${r.userId}, ${r.issuedAt}, ${r.receivedAt}, ${cut(r.outcome)}, ${r.sessions}, ${r.detail === null ? null : cut(r.detail)})`;
      }
    },
    async list(userId, options) {
      const rows = await db.$queryRaw<Row[]>`
        SELECT "id", "issuer", "jti", "type", "userId", "issuedAt", "receivedAt", "outcome", "sessions", "detail" FROM "KitSecurityEvent"
        WHERE "userId" = ${userId} ORDER BY "receivedAt" DESC, "id" DESC LIMIT ${options?.limit ?? 20}`;
      return rows.map((r): SecurityEventRecord => ({ ...r, issuedAt: Number(r.issuedAt), receivedAt: Number(r.receivedAt), sessions: Number(r.sessions) }));
    },
    async purge(before, limit) {
      // The batch in "receivedAt" order (its index): see sql-dialect.ts for the two forms.
      return (await isPostgres(db))
        ? db.$executeRaw`DELETE FROM "KitSecurityEvent" WHERE "id" = ANY(ARRAY(SELECT "id" FROM "KitSecurityEvent" WHERE "receivedAt" < ${before} ORDER BY "receivedAt" LIMIT ${limit}))`
        : db.$executeRaw`DELETE FROM "KitSecurityEvent" WHERE "id" IN (SELECT "id" FROM "KitSecurityEvent" WHERE "receivedAt" < ${before} ORDER BY "receivedAt" LIMIT ${limit})`;
    },
    async latest(userId, outcome) {
      const rows = await db.$queryRaw<Array<{ at: number | bigint | null }>>`
        SELECT MAX("issuedAt") AS "at" FROM "KitSecurityEvent" WHERE "userId" = ${userId} AND "outcome" = ${outcome}`;
      const at = rows[0]?.at;
      return at === null || at === undefined ? null : Number(at);
    },
  };
}
