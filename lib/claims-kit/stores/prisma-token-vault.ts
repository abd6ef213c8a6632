import type { TokenSet } from "../refresh/token-endpoint";
import type { RawSqlClient } from "./prisma-sessions";

/** Which provider account holds the tokens (Auth.js's Account key). */
export interface AccountRef {
  provider: string;
  providerAccountId: string;
}

/** What the vault keeps for one account. Times in seconds since the epoch. */
export interface VaultEntry {
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  expiresAt: number | null;
  refreshedAt: number | null;
  refreshCount: number;
  /** A terminal failure (e.g. invalid_grant): nobody refreshes again until the next sign-in. */
  refreshError: string | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

/**
 * Server-side storage of OAuth tokens with a refresh lease, so that across processes exactly one
 * refreshes a grant while the others wait for its result.
 */
export interface TokenVault {
  read(ref: AccountRef): Promise<VaultEntry | null>;
  /** At sign-in: the tokens Auth.js just received (its adapter does not update them on later sign-ins). */
  store(ref: AccountRef, tokens: { accessToken: string; refreshToken?: string | null; idToken?: string | null; expiresAt: number }, now: number): Promise<void>;
  /** Take the refresh lease if nobody holds a live one (compare-and-set). */
  acquire(ref: AccountRef, owner: string, now: number, until: number): Promise<boolean>;
  /** Save a refresh's tokens, count it, clear the lease and any error. */
  complete(ref: AccountRef, tokens: TokenSet, now: number): Promise<void>;
  /** Give the lease back, recording a terminal error or clearing it. */
  release(ref: AccountRef, owner: string, error: string | null): Promise<void>;
  accountsOf(userId: string, provider: string): Promise<AccountRef[]>;
  /** Forget the tokens (after revocation at the provider). */
  clear(ref: AccountRef, error: string): Promise<void>;
}

interface Row {
  access_token: string | null;
  refresh_token: string | null;
  id_token: string | null;
  expires_at: number | bigint | null;
  refreshedAt: number | bigint | null;
  refreshCount: number | bigint;
  refreshError: string | null;
  refreshLeaseOwner: string | null;
  refreshLeaseUntil: number | bigint | null;
}

const num = (v: number | bigint | null): number | null => (v === null ? null : Number(v));

/**
 * A {@link TokenVault} on Auth.js's `Account` model (access_token, refresh_token, id_token,
 * expires_at) plus `refreshLeaseOwner`, `refreshLeaseUntil`, `refreshedAt`, `refreshCount` and
 * `refreshError` columns (see prisma/schema.prisma). One statement per operation.
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
        SELECT "access_token", "refresh_token", "id_token", "expires_at", "refreshedAt", "refreshCount", "refreshError", "refreshLeaseOwner", "refreshLeaseUntil"
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
        leaseOwner: r.refreshLeaseOwner,
        leaseUntil: num(r.refreshLeaseUntil),
      };
    },
    async store({ provider, providerAccountId }, t, now) {
      await db.$executeRaw`
        UPDATE "Account" SET "access_token" = ${t.accessToken}, "refresh_token" = COALESCE(${t.refreshToken ?? null}, "refresh_token"),
          "id_token" = COALESCE(${t.idToken ?? null}, "id_token"), "expires_at" = ${t.expiresAt}, "refreshedAt" = ${now},
          "refreshError" = NULL, "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}`;
    },
    async acquire({ provider, providerAccountId }, owner, now, until) {
      const changed = await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = ${owner}, "refreshLeaseUntil" = ${until}
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}
          AND ("refreshLeaseUntil" IS NULL OR "refreshLeaseUntil" < ${now})`;
      return changed === 1;
    },
    async complete({ provider, providerAccountId }, t, now) {
      // Saved whoever holds the lease by now: these are the provider's live tokens (the old
      // refresh token is consumed), so losing them would lose the grant.
      await db.$executeRaw`
        UPDATE "Account" SET "access_token" = ${t.accessToken}, "refresh_token" = ${t.refreshToken},
          "id_token" = COALESCE(${t.idToken ?? null}, "id_token"), "expires_at" = ${t.expiresAt}, "refreshedAt" = ${now},
          "refreshCount" = "refreshCount" + 1, "refreshError" = NULL, "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}`;
    },
    async release({ provider, providerAccountId }, owner, error) {
      await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL, "refreshError" = ${error}
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refreshLeaseOwner" = ${owner}`;
    },
    async accountsOf(userId, provider) {
      return db.$queryRaw<AccountRef[]>`
        SELECT "provider", "providerAccountId" FROM "Account" WHERE "userId" = ${userId} AND "provider" = ${provider}`;
    },
    async clear({ provider, providerAccountId }, error) {
      await db.$executeRaw`
        UPDATE "Account" SET "access_token" = NULL, "refresh_token" = NULL, "refreshError" = ${error}, "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}`;
    },
  };
}
