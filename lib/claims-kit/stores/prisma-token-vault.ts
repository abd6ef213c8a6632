import type { AccountRef, TokenVault } from "../engine/ports";
import type { RawSqlClient } from "./prisma-sessions";

interface Row {
  access_token: string | null;
  refresh_token: string | null;
  id_token: string | null;
  expires_at: number | bigint | null;
  refreshedAt: number | bigint | null;
  refreshCount: number | bigint;
  refreshError: string | null;
  refreshErrorAt: number | bigint | null;
  refreshFailures: number | bigint | null;
  refreshFailedWith: string | null;
  refreshRetryAt: number | bigint | null;
  refreshLeaseOwner: string | null;
  refreshLeaseUntil: number | bigint | null;
}

const num = (v: number | bigint | null): number | null => (v === null ? null : Number(v));

/**
 * A {@link TokenVault} on Auth.js's `Account` model (access_token, refresh_token, id_token,
 * expires_at) plus `refreshLeaseOwner`, `refreshLeaseUntil`, `refreshedAt`, `refreshCount`,
 * `refreshError`, `refreshErrorAt` and the back-off's `refreshFailures`, `refreshFailedWith`,
 * `refreshRetryAt` columns (see prisma/schema.prisma). One statement per operation; the
 * conditional ones report whether they changed the row.
 *
 * @example
 * ```ts
 * oauthRefresh({ mode: "vault", vault: prismaTokenVault(prisma), ... })
 * ```
 */
export function prismaTokenVault(db: RawSqlClient): TokenVault {
  return {
    async read({ provider, providerAccountId }) {
      const rows = await db.$queryRaw<Row[]>`
        SELECT "access_token", "refresh_token", "id_token", "expires_at", "refreshedAt", "refreshCount", "refreshError", "refreshErrorAt",
          "refreshFailures", "refreshFailedWith", "refreshRetryAt", "refreshLeaseOwner", "refreshLeaseUntil"
        FROM "Account" WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}`;
      const r = rows[0];
      if (!r) return null;
      return {
        accessToken: r.access_token,
        refreshToken: r.refresh_token,
        idToken: r.id_token,
        expiresAt: num(r.expires_at),
        refreshedAt: num(r.refreshedAt),
        refreshCount: Number(r.refreshCount),
        refreshError: r.refreshError,
        refreshErrorAt: num(r.refreshErrorAt),
        refreshFailures: num(r.refreshFailures) ?? 0,
        refreshFailedWith: r.refreshFailedWith,
        refreshRetryAt: num(r.refreshRetryAt),
        leaseOwner: r.refreshLeaseOwner,
        leaseUntil: num(r.refreshLeaseUntil),
      };
    },
    async store({ provider, providerAccountId }, t, now) {
      // A new sign-in is a new grant: it also ends any lease, so a refresh still in flight with the
      // previous grant's token cannot save over these tokens (its complete/adopt no longer match).
      await db.$executeRaw`
        UPDATE "Account" SET "access_token" = ${t.accessToken}, "refresh_token" = COALESCE(${t.refreshToken ?? null}, "refresh_token"),
          "id_token" = COALESCE(${t.idToken ?? null}, "id_token"), "expires_at" = ${t.expiresAt}, "refreshedAt" = ${now},
          "refreshError" = NULL, "refreshErrorAt" = NULL, "refreshFailures" = NULL, "refreshFailedWith" = NULL, "refreshRetryAt" = NULL,
          "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}`;
    },
    async acquire({ provider, providerAccountId }, owner, now, until) {
      const changed = await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = ${owner}, "refreshLeaseUntil" = ${until}
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}
          AND ("refreshLeaseUntil" IS NULL OR "refreshLeaseUntil" < ${now})`;
      return changed === 1;
    },
    async complete({ provider, providerAccountId }, owner, t, now) {
      const changed = await db.$executeRaw`
        UPDATE "Account" SET "access_token" = ${t.accessToken}, "refresh_token" = ${t.refreshToken},
          "id_token" = COALESCE(${t.idToken ?? null}, "id_token"), "expires_at" = ${t.expiresAt}, "refreshedAt" = ${now},
          "refreshCount" = "refreshCount" + 1, "refreshError" = NULL, "refreshErrorAt" = NULL,
          "refreshFailures" = NULL, "refreshFailedWith" = NULL, "refreshRetryAt" = NULL, "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refreshLeaseOwner" = ${owner}`;
      return changed === 1;
    },
    async adopt({ provider, providerAccountId }, presented, t, now) {
      const changed = await db.$executeRaw`
        UPDATE "Account" SET "access_token" = ${t.accessToken}, "refresh_token" = ${t.refreshToken},
          "id_token" = COALESCE(${t.idToken ?? null}, "id_token"), "expires_at" = ${t.expiresAt}, "refreshedAt" = ${now},
          "refreshCount" = "refreshCount" + 1, "refreshError" = NULL, "refreshErrorAt" = NULL,
          "refreshFailures" = NULL, "refreshFailedWith" = NULL, "refreshRetryAt" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refresh_token" = ${presented}`;
      return changed === 1;
    },
    async release({ provider, providerAccountId }, owner) {
      await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refreshLeaseOwner" = ${owner}`;
    },
    async backOff({ provider, providerAccountId }, owner, b) {
      await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL,
          "refreshFailures" = ${b.failures}, "refreshFailedWith" = ${b.failedWith}, "refreshRetryAt" = ${b.retryAt}
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refreshLeaseOwner" = ${owner}`;
    },
    async stop({ provider, providerAccountId }, owner, error, at) {
      await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL, "refreshError" = ${error}, "refreshErrorAt" = ${at},
          "refreshFailures" = NULL, "refreshFailedWith" = NULL, "refreshRetryAt" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refreshLeaseOwner" = ${owner}`;
    },
    async accountsOf(userId, provider) {
      return db.$queryRaw<AccountRef[]>`
        SELECT "provider", "providerAccountId" FROM "Account" WHERE "userId" = ${userId} AND "provider" = ${provider}`;
    },
    async clear({ provider, providerAccountId }, error, at) {
      // Ends any lease too: a refresh in flight cannot save over a revocation.
      await db.$executeRaw`
        UPDATE "Account" SET "access_token" = NULL, "refresh_token" = NULL, "refreshError" = ${error}, "refreshErrorAt" = ${at},
          "refreshFailures" = NULL, "refreshFailedWith" = NULL, "refreshRetryAt" = NULL, "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}`;
    },
  };
}
