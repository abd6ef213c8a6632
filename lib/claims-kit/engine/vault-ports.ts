// The ports of the OAuth token engine: where a grant's tokens are kept (the vault) and what server
// code gets from a token source. Re-exported by ./ports with the other storage ports.

/** What server code gets from a token source such as `oauthRefresh()`. */
export interface AccessTokenInfo {
  accessToken: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  /** How many refreshes the grant has had (vault mode), else null. */
  refreshCount: number | null;
}

/** Anything that can hand server code a fresh access token for a decoded session token. */
export interface AccessTokenSource {
  accessToken(token: Readonly<Record<string, unknown>> | null | undefined): Promise<AccessTokenInfo | null>;
}

/** A token set after a successful refresh. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  /** Seconds since the epoch. */
  expiresAt: number;
  idToken?: string;
  rotated: boolean;
}

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
  /**
   * The back-off after failed refresh attempts (transient ones, and a `refresh_rejected` awaiting
   * its confirming attempt), shared by every instance: how many attempts in a row failed, the
   * last one's code, and the time (seconds) before which nobody calls the provider for this grant.
   * Cleared by a successful refresh, a sign-in, a terminal stop and a revocation.
   */
  refreshFailures: number;
  refreshFailedWith: string | null;
  refreshRetryAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
}

/**
 * A failed refresh attempt's back-off, as {@link TokenVault.backOff} records it.
 *
 * @example
 * ```ts
 * const backoff: VaultBackoff = { failures: 3, failedWith: "server_error", retryAt: 1_800_000_004 };
 * ```
 */
export interface VaultBackoff {
  /** Failed attempts in a row, this one included. */
  failures: number;
  /** This attempt's code (`server_error`, `timeout`, `network`, `rate_limited`, `refresh_rejected`…). */
  failedWith: string;
  /** No attempt before this time (seconds since the epoch). */
  retryAt: number;
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
   * Save a refresh's tokens, count it, clear any error, the back-off and the lease, only while
   * `owner` still holds the lease. Returns whether it did (false: the lease was lost, nothing was written).
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
  /**
   * Give the lease back (if `owner` still holds it) after a failed attempt, recording its back-off
   * (the refresh token is kept: the attempt did not consume it). Every instance reads it before
   * calling the provider, so a sustained failure costs the provider a bounded number of calls.
   */
  backOff(ref: AccountRef, owner: string, backoff: VaultBackoff): Promise<void>;
  /** Give the lease back (if `owner` still holds it), recording a terminal error and when (seconds); clears the back-off. */
  stop(ref: AccountRef, owner: string, error: string, at: number): Promise<void>;
  accountsOf(userId: string, provider: string): Promise<AccountRef[]>;
  /** Forget the tokens (after revocation at the provider), recording `error` and when (seconds). */
  clear(ref: AccountRef, error: string, at: number): Promise<void>;
}
