import { createHash } from "node:crypto";
import type { SessionEndCause, SessionInfo, SessionRegistry, SessionState } from "../engine/ports";
import { isPostgres } from "./sql-dialect";

/**
 * The slice of a Prisma client the registry uses: tagged-template raw SQL, so each check is exactly
 * one statement whatever Prisma's relation loading strategy is.
 */
export interface RawSqlClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

interface SessionRow {
  userId: string;
  revokedAt: number | bigint | null;
  lastSeenAt: number | bigint;
  pendingPatch: string | null;
  state: string | null;
  claimsVersion: number | bigint;
  epoch: string | null;
}

const num = (v: number | bigint | null): number | null => (v === null ? null : Number(v));

interface ListedRow {
  id: string;
  userId: string;
  userAgent: string | null;
  createdAt: number | bigint;
  lastSeenAt: number | bigint;
  revokedAt: number | bigint | null;
  idpSid: string | null;
  endedBy: string | null;
}

/** Provider ids longer than this are stored (and looked up) by their hash. */
const PROVIDER_ID_MAX = 255;
const HASHED = "sha256:";

/**
 * The one form a provider's issuer, subject or session id is stored and compared in: as given up to
 * 255 characters, else `sha256:` and the SHA-256 of the whole value (base64url). A value that itself
 * starts with `sha256:` is hashed too, so no stored form stands for two values. Sign-in and
 * back-channel revocation both go through it: a long id is never cut, and still matches exactly.
 */
function providerId(value: string): string {
  if (value.length <= PROVIDER_ID_MAX && !value.startsWith(HASHED)) return value;
  return `${HASHED}${createHash("sha256").update(value, "utf8").digest("base64url")}`;
}

/** Compare-and-set attempts per session before a rewrite gives up (loudly). */
const REWRITE_ATTEMPTS = 100;

const CAUSES: ReadonlySet<string> = new Set<SessionEndCause>(["user", "admin", "provider", "replaced", "expired"]);

function listed(r: ListedRow): SessionInfo {
  return {
    sid: r.id,
    userId: r.userId,
    userAgent: r.userAgent,
    createdAt: Number(r.createdAt),
    lastSeenAt: Number(r.lastSeenAt),
    revokedAt: num(r.revokedAt),
    providerSid: r.idpSid,
    endedBy: r.endedBy !== null && CAUSES.has(r.endedBy) ? (r.endedBy as SessionEndCause) : null,
  };
}

/**
 * A {@link SessionRegistry} over the Prisma models `UserSession` (id, userId, userAgent, createdAt,
 * lastSeenAt, revokedAt, pendingPatch, the provider's issuer/subject/sid, endedBy; times in
 * seconds), `User.claimsVersion` and `KitSetting` (key/value; key "epoch"). The per-request check
 * is one indexed read by primary key.
 *
 * @example
 * ```ts
 * claimsKit({ sessions: prismaSessionRegistry(prisma), plugins })
 * ```
 */
export function prismaSessionRegistry(db: RawSqlClient): SessionRegistry {
  async function userState(userId: string): Promise<{ claimsVersion: number; epoch: string }> {
    const rows = await db.$queryRaw<Array<{ claimsVersion: number | bigint; epoch: string | null }>>`
      SELECT u."claimsVersion" AS "claimsVersion", (SELECT k."value" FROM "KitSetting" k WHERE k."key" = 'epoch') AS "epoch"
      FROM "User" u WHERE u."id" = ${userId}`;
    const row = rows[0];
    return { claimsVersion: Number(row?.claimsVersion ?? 0), epoch: row?.epoch ?? "0" };
  }

  /**
   * Rewrite one session's pending patch, compare-and-set on the text it was computed from (and, with
   * a version, on the user's claims version in the same statement), retried: a concurrent writer
   * must not lose this change, nor this one theirs. Each failed attempt means another writer's
   * succeeded, so with N writers at once one needs at most N attempts; the attempts are spread by
   * a short random wait, and running out of them throws (never a silently lost change). Returns
   * whether it wrote.
   */
  async function rewriteOne(sid: string, stored: string | null, next: (current: string | null) => string | null | undefined, version: number | null): Promise<boolean> {
    let current = stored;
    for (let attempt = 0; attempt < REWRITE_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 20)));
      const text = next(current);
      if (text === undefined || text === current) return false;
      const changed = version === null
        ? current === null
          ? await db.$executeRaw`UPDATE "UserSession" SET "pendingPatch" = ${text} WHERE "id" = ${sid} AND "revokedAt" IS NULL AND "pendingPatch" IS NULL`
          : await db.$executeRaw`UPDATE "UserSession" SET "pendingPatch" = ${text} WHERE "id" = ${sid} AND "revokedAt" IS NULL AND "pendingPatch" = ${current}`
        : current === null
          ? await db.$executeRaw`UPDATE "UserSession" SET "pendingPatch" = ${text} WHERE "id" = ${sid} AND "revokedAt" IS NULL AND "pendingPatch" IS NULL
              AND (SELECT u."claimsVersion" FROM "User" u WHERE u."id" = "UserSession"."userId") = ${version}`
          : await db.$executeRaw`UPDATE "UserSession" SET "pendingPatch" = ${text} WHERE "id" = ${sid} AND "revokedAt" IS NULL AND "pendingPatch" = ${current}
              AND (SELECT u."claimsVersion" FROM "User" u WHERE u."id" = "UserSession"."userId") = ${version}`;
      if (changed === 1) return true;
      const again = await db.$queryRaw<Array<{ pendingPatch: string | null; v: number | bigint }>>`
        SELECT s."pendingPatch" AS "pendingPatch", u."claimsVersion" AS "v" FROM "UserSession" s JOIN "User" u ON u."id" = s."userId"
        WHERE s."id" = ${sid} AND s."revokedAt" IS NULL`;
      // Gone or revoked, or the version moved on: nothing to write.
      if (!again[0] || (version !== null && Number(again[0].v) !== version)) return false;
      current = again[0].pendingPatch;
    }
    throw new Error(`session ${sid}: the pending patch changed under each of ${REWRITE_ATTEMPTS} attempts to rewrite it`);
  }

  return {
    async create({ sid, userId, userAgent, now, provider, authSessionId }) {
      // Provider values come from the id_token and are only ever matched exactly: bounded by
      // hashing long ones (providerId), never by cutting them, so a logout token naming them matches.
      const stored = (v: string | null | undefined) => (v ? providerId(v) : null);
      await db.$executeRaw`
        INSERT INTO "UserSession" ("id", "userId", "userAgent", "createdAt", "lastSeenAt", "idpIssuer", "idpSubject", "idpSid", "authSessionId")
        VALUES (${sid}, ${userId}, ${userAgent ? userAgent.slice(0, 300) : null}, ${now}, ${now}, ${stored(provider?.issuer)}, ${stored(provider?.subject)}, ${stored(provider?.sid)}, ${authSessionId ?? null})`;
      return userState(userId);
    },

    async check(sid): Promise<SessionState | null> {
      const rows = await db.$queryRaw<SessionRow[]>`
        SELECT s."userId" AS "userId", s."revokedAt" AS "revokedAt", s."lastSeenAt" AS "lastSeenAt", s."pendingPatch" AS "pendingPatch",
               s."state" AS "state", u."claimsVersion" AS "claimsVersion",
               (SELECT k."value" FROM "KitSetting" k WHERE k."key" = 'epoch') AS "epoch"
        FROM "UserSession" s JOIN "User" u ON u."id" = s."userId"
        WHERE s."id" = ${sid}`;
      const row = rows[0];
      if (!row) return null;
      return {
        revoked: row.revokedAt !== null,
        claimsVersion: Number(row.claimsVersion),
        epoch: row.epoch ?? "0",
        lastSeenAt: Number(row.lastSeenAt),
        pendingPatch: row.pendingPatch,
        userId: row.userId,
        state: row.state,
      };
    },

    async writeState(sid, state, expected) {
      const written = expected === null
        ? await db.$executeRaw`UPDATE "UserSession" SET "state" = ${state} WHERE "id" = ${sid} AND "revokedAt" IS NULL AND "state" IS NULL`
        : await db.$executeRaw`UPDATE "UserSession" SET "state" = ${state} WHERE "id" = ${sid} AND "revokedAt" IS NULL AND "state" = ${expected}`;
      return written === 1;
    },

    async touch(sid, now) {
      await db.$executeRaw`UPDATE "UserSession" SET "lastSeenAt" = ${now} WHERE "id" = ${sid}`;
    },

    async list(userId, options): Promise<SessionInfo[]> {
      const rows = options?.ended
        ? await db.$queryRaw<ListedRow[]>`
            SELECT "id", "userId", "userAgent", "createdAt", "lastSeenAt", "revokedAt", "idpSid", "endedBy" FROM "UserSession"
            WHERE "userId" = ${userId} AND "revokedAt" IS NOT NULL ORDER BY "revokedAt" DESC LIMIT ${options.limit ?? 20}`
        : await db.$queryRaw<ListedRow[]>`
            SELECT "id", "userId", "userAgent", "createdAt", "lastSeenAt", "revokedAt", "idpSid", "endedBy" FROM "UserSession"
            WHERE "userId" = ${userId} AND "revokedAt" IS NULL ORDER BY "createdAt" DESC`;
      return rows.map(listed);
    },

    async revoke(where, now, by) {
      const cause = by ?? null;
      type Ended = Array<{ authSessionId: string | null }>;
      let ended: Ended;
      if ("sid" in where) {
        ended = await db.$queryRaw<Ended>`UPDATE "UserSession" SET "revokedAt" = ${now}, "endedBy" = ${cause} WHERE "id" = ${where.sid} AND "revokedAt" IS NULL RETURNING "authSessionId"`;
      } else if ("userId" in where) {
        ended = await db.$queryRaw<Ended>`
          UPDATE "UserSession" SET "revokedAt" = ${now}, "endedBy" = ${cause}
          WHERE "userId" = ${where.userId} AND "revokedAt" IS NULL AND "id" <> ${where.except ?? ""} RETURNING "authSessionId"`;
      } else {
        // Compared in the form stored at sign-in.
        const issuer = providerId(where.issuer);
        const providerSid = where.providerSid === undefined ? undefined : providerId(where.providerSid);
        const subject = where.subject === undefined ? undefined : providerId(where.subject);
        if (providerSid !== undefined && subject !== undefined) {
          ended = await db.$queryRaw<Ended>`
            UPDATE "UserSession" SET "revokedAt" = ${now}, "endedBy" = ${cause}
            WHERE "idpIssuer" = ${issuer} AND "idpSid" = ${providerSid} AND "idpSubject" = ${subject} AND "revokedAt" IS NULL RETURNING "authSessionId"`;
        } else if (providerSid !== undefined) {
          ended = await db.$queryRaw<Ended>`
            UPDATE "UserSession" SET "revokedAt" = ${now}, "endedBy" = ${cause}
            WHERE "idpIssuer" = ${issuer} AND "idpSid" = ${providerSid} AND "revokedAt" IS NULL RETURNING "authSessionId"`;
        } else if (subject !== undefined) {
          ended = await db.$queryRaw<Ended>`
            UPDATE "UserSession" SET "revokedAt" = ${now}, "endedBy" = ${cause}
            WHERE "idpIssuer" = ${issuer} AND "idpSubject" = ${subject} AND "revokedAt" IS NULL RETURNING "authSessionId"`;
        } else {
          // Neither: nothing names a session. Never "every session of the issuer".
          return 0;
        }
      }
      // Database-strategy sessions end with their Auth.js Session row: Auth.js's own lookup then
      // finds none, so the next request of every process reads as signed out.
      const rows = ended.map((r) => r.authSessionId).filter((id): id is string => id !== null);
      for (const id of rows) await db.$executeRaw`DELETE FROM "Session" WHERE "id" = ${id}`;
      return ended.length;
    },

    async findByProvider(where) {
      // Compared in the form stored at sign-in, as revoke() compares them.
      const issuer = providerId(where.issuer);
      const providerSid = where.providerSid === undefined ? undefined : providerId(where.providerSid);
      const subject = where.subject === undefined ? undefined : providerId(where.subject);
      type Found = Array<{ sid: string; userId: string }>;
      if (providerSid !== undefined && subject !== undefined) {
        return db.$queryRaw<Found>`SELECT "id" AS "sid", "userId" FROM "UserSession" WHERE "idpIssuer" = ${issuer} AND "idpSid" = ${providerSid} AND "idpSubject" = ${subject} AND "revokedAt" IS NULL`;
      }
      if (providerSid !== undefined) return db.$queryRaw<Found>`SELECT "id" AS "sid", "userId" FROM "UserSession" WHERE "idpIssuer" = ${issuer} AND "idpSid" = ${providerSid} AND "revokedAt" IS NULL`;
      if (subject !== undefined) return db.$queryRaw<Found>`SELECT "id" AS "sid", "userId" FROM "UserSession" WHERE "idpIssuer" = ${issuer} AND "idpSubject" = ${subject} AND "revokedAt" IS NULL`;
      return [];
    },

    async bumpClaimsVersion(userId) {
      await db.$executeRaw`UPDATE "User" SET "claimsVersion" = "claimsVersion" + 1 WHERE "id" = ${userId}`;
    },

    async rewritePatch(where, next, options) {
      const live = "sid" in where
        ? await db.$queryRaw<Array<{ id: string; pendingPatch: string | null }>>`
            SELECT "id", "pendingPatch" FROM "UserSession" WHERE "id" = ${where.sid} AND "revokedAt" IS NULL`
        : await db.$queryRaw<Array<{ id: string; pendingPatch: string | null }>>`
            SELECT "id", "pendingPatch" FROM "UserSession" WHERE "userId" = ${where.userId} AND "revokedAt" IS NULL`;
      let written = 0;
      let failed: unknown;
      // Every session is tried, even after one failed: a user's other sessions still get the change.
      for (const session of live) {
        try {
          if (await rewriteOne(session.id, session.pendingPatch, next, options?.claimsVersion ?? null)) written++;
        } catch (err) {
          failed ??= err;
        }
      }
      if (failed) throw failed;
      return written;
    },

    async expire(lastSeenBefore, now, limit) {
      // The batch: the first `limit` due sessions in the order of the ("revokedAt", "lastSeenAt")
      // index (all "revokedAt" NULL), so the scan stops at the limit (sql-dialect.ts says why the
      // forms differ). The outer conditions again: a session touched (or ended) since is left alone.
      type Ended = Array<{ id: string }>;
      const ended = (await isPostgres(db))
        ? await db.$queryRaw<Ended>`
            UPDATE "UserSession" SET "revokedAt" = ${now}, "endedBy" = 'expired'
            WHERE "id" = ANY(ARRAY(SELECT "id" FROM "UserSession" WHERE "revokedAt" IS NULL AND "lastSeenAt" < ${lastSeenBefore} ORDER BY "revokedAt", "lastSeenAt" LIMIT ${limit}))
              AND "revokedAt" IS NULL AND "lastSeenAt" < ${lastSeenBefore} RETURNING "id"`
        : await db.$queryRaw<Ended>`
            UPDATE "UserSession" SET "revokedAt" = ${now}, "endedBy" = 'expired'
            WHERE "id" IN (SELECT "id" FROM "UserSession" WHERE "revokedAt" IS NULL AND "lastSeenAt" < ${lastSeenBefore} ORDER BY "revokedAt", "lastSeenAt" LIMIT ${limit})
              AND "revokedAt" IS NULL AND "lastSeenAt" < ${lastSeenBefore} RETURNING "id"`;
      return ended.map((r) => r.id);
    },

    async purgeEnded(endedBefore, limit) {
      // The batch: the `limit` sessions ended longest ago, in "revokedAt" order (the index's).
      type Gone = Array<{ id: string; authSessionId: string | null }>;
      const gone = (await isPostgres(db))
        ? await db.$queryRaw<Gone>`
            DELETE FROM "UserSession" WHERE "id" = ANY(ARRAY(SELECT "id" FROM "UserSession" WHERE "revokedAt" < ${endedBefore} ORDER BY "revokedAt" LIMIT ${limit}))
            RETURNING "id", "authSessionId"`
        : await db.$queryRaw<Gone>`
            DELETE FROM "UserSession" WHERE "id" IN (SELECT "id" FROM "UserSession" WHERE "revokedAt" < ${endedBefore} ORDER BY "revokedAt" LIMIT ${limit})
            RETURNING "id", "authSessionId"`;
      // An Auth.js Session row a database-strategy session left (ended long ago: gone already, as a rule).
      for (const { authSessionId } of gone) if (authSessionId !== null) await db.$executeRaw`DELETE FROM "Session" WHERE "id" = ${authSessionId}`;
      return gone.map((r) => r.id);
    },

    async bumpEpoch() {
      const epoch = crypto.randomUUID();
      await db.$executeRaw`
        INSERT INTO "KitSetting" ("key", "value") VALUES ('epoch', ${epoch})
        ON CONFLICT ("key") DO UPDATE SET "value" = ${epoch}`;
      return epoch;
    },
  };
}
