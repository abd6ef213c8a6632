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
  /**
   * Why refreshing stopped (invalid_grant, revoked, no_refresh_token: until the next sign-in;
   * client_error: until a back-off counted from `refreshErrorAt` has passed).
   */
  refreshError: string | null;
  /** When `refreshError` was recorded (null on rows written before the column existed). */
  refreshErrorAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

/**
 * Server-side storage of OAuth tokens with a refresh lease, so that across processes exactly one
 * refreshes a grant while the others wait for its result. Every write that ends a refresh is
 * conditional: on still holding the lease (`complete`, `release`, `stop`) or on the row still
 * holding the refresh token that refresh presented (`adopt`), so a slow instance never overwrites
 * what a newer refresh, a revocation or a new sign-in wrote.
 *
 * @example
 * ```ts
 * const vault: TokenVault = prismaTokenVault(prisma);
 * if (await vault.acquire(ref, owner, now, now + 23)) {
 *   const saved = await vault.complete(ref, owner, tokens, now); // false: the lease was lost
 * }
 * ```
 */
export interface TokenVault {
  read(ref: AccountRef): Promise<VaultEntry | null>;
  /** At sign-in: the tokens Auth.js just received (its adapter does not update them on later sign-ins). */
  store(ref: AccountRef, tokens: { accessToken: string; refreshToken?: string | null; idToken?: string | null; expiresAt: number }, now: number): Promise<void>;
  /** Take the refresh lease if nobody holds a live one (compare-and-set). */
  acquire(ref: AccountRef, owner: string, now: number, until: number): Promise<boolean>;
  /**
   * Save a refresh's tokens, count it, clear any error and the lease, only while `owner` still
   * holds the lease. Returns whether it did (false: the lease was lost, nothing was written).
   */
  complete(ref: AccountRef, owner: string, tokens: TokenSet, now: number): Promise<boolean>;
  /**
   * Save the tokens of a refresh that no longer holds its lease, only while the row still holds
   * `presented` (the refresh token that refresh sent, now consumed at the provider): never over
   * newer tokens, a revocation or a new sign-in. Leaves the lease alone. Returns whether it did.
   */
  adopt(ref: AccountRef, presented: string, tokens: TokenSet, now: number): Promise<boolean>;
  /** Give the lease back (if `owner` still holds it), leaving any stored error as it is. */
  release(ref: AccountRef, owner: string): Promise<void>;
  /** Give the lease back (if `owner` still holds it), recording a terminal error and when (seconds). */
  stop(ref: AccountRef, owner: string, error: string, at: number): Promise<void>;
  accountsOf(userId: string, provider: string): Promise<AccountRef[]>;
  /** Forget the tokens (after revocation at the provider), recording `error` and when (seconds). */
  clear(ref: AccountRef, error: string, at: number): Promise<void>;
}

interface Row {
  access_token: string | null;
  refresh_token: string | null;
  id_token: string | null;
  expires_at: number | bigint | null;
  refreshedAt: number | bigint | null;
  refreshCount: number | bigint;
  refreshError: string | null;
  refreshErrorAt: number | bigint | null;
  refreshLeaseOwner: string | null;
  refreshLeaseUntil: number | bigint | null;
}

const num = (v: number | bigint | null): number | null => (v === null ? null : Number(v));

/**
 * A {@link TokenVault} on Auth.js's `Account` model (access_token, refresh_token, id_token,
 * expires_at) plus `refreshLeaseOwner`, `refreshLeaseUntil`, `refreshedAt`, `refreshCount`,
 * `refreshError` and `refreshErrorAt` columns (see prisma/schema.prisma). One statement per
 * operation; the conditional ones report whether they changed the row.
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
        SELECT "access_token", "refresh_token", "id_token", "expires_at", "refreshedAt", "refreshCount", "refreshError", "refreshErrorAt", "refreshLeaseOwner", "refreshLeaseUntil"
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
          "refreshError" = NULL, "refreshErrorAt" = NULL, "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
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
          "refreshCount" = "refreshCount" + 1, "refreshError" = NULL, "refreshErrorAt" = NULL, "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refreshLeaseOwner" = ${owner}`;
      return changed === 1;
    },
    async adopt({ provider, providerAccountId }, presented, t, now) {
      const changed = await db.$executeRaw`
        UPDATE "Account" SET "access_token" = ${t.accessToken}, "refresh_token" = ${t.refreshToken},
          "id_token" = COALESCE(${t.idToken ?? null}, "id_token"), "expires_at" = ${t.expiresAt}, "refreshedAt" = ${now},
          "refreshCount" = "refreshCount" + 1, "refreshError" = NULL, "refreshErrorAt" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refresh_token" = ${presented}`;
      return changed === 1;
    },
    async release({ provider, providerAccountId }, owner) {
      await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId} AND "refreshLeaseOwner" = ${owner}`;
    },
    async stop({ provider, providerAccountId }, owner, error, at) {
      await db.$executeRaw`
        UPDATE "Account" SET "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL, "refreshError" = ${error}, "refreshErrorAt" = ${at}
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
          "refreshLeaseOwner" = NULL, "refreshLeaseUntil" = NULL
        WHERE "provider" = ${provider} AND "providerAccountId" = ${providerAccountId}`;
    },
  };
}
