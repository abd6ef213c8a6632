// The refresh plugin's claim shapes and result types.
import type { Refusal } from "../engine/errors";
import type { BackoffState } from "./backoff";
import type { RefreshErrorCode } from "./token-endpoint";

/**
 * Why refreshing stopped: `invalid_grant`, `revoked` and `reauth_required` (the access token expired
 * and there is no refresh token) until the next sign-in;
 * `client_error` (the provider refused this client, e.g. a wrong secret during a deploy) until
 * `clientErrorRetrySeconds` have passed.
 *
 * @example
 * ```ts
 * const code: StopCode = "invalid_grant";
 * ```
 */
export type StopCode = "invalid_grant" | "client_error" | "reauth_required" | "revoked";

/**
 * On a claim whose refresh stopped: the code and when (seconds). While it holds, `isDue()` is
 * false and `jwt()` does no refresh work; it only reports the code again (`session.errors.oauth`).
 *
 * @example
 * ```ts
 * const claim: VaultClaim = { p: "oidc", a: "1234", e: 1_800_000_000, i: 1_799_996_400, s: { c: "invalid_grant", t: 1_800_000_001 } };
 * ```
 */
export interface StoppedMark {
  c: StopCode;
  t: number;
}

/**
 * Vault mode: which account holds the tokens, and when the access token expires (a hint).
 *
 * @example
 * ```ts
 * const claim: VaultClaim = { p: "oidc", a: "1234", e: 1_800_000_000, i: 1_799_996_400 };
 * ```
 */
export interface VaultClaim {
  p: string;
  a: string;
  /** Set when sign-in brought no refresh token: the access token works until it expires. */
  nr?: 1;
  /** Access-token expiry (seconds). */
  e: number;
  /** When these tokens were issued (seconds): caps the skew for short-lived tokens. */
  i: number;
  /** Set when refreshing stopped. */
  s?: StoppedMark;
}

/**
 * Cookie mode: the tokens themselves, in the encrypted token.
 *
 * @example
 * ```ts
 * const claim: CookieClaim = { at: "access", rt: "refresh", e: 1_800_000_000, i: 1_799_996_400 };
 * ```
 */
export interface CookieClaim {
  at: string;
  /** Set when sign-in brought no refresh token: the access token works until it expires. */
  nr?: 1;
  rt?: string;
  e: number;
  i: number;
  it?: string;
  /** Set when refreshing stopped. */
  s?: StoppedMark;
  /** Set while refresh attempts fail: the back-off (no provider call before `b.r`). */
  b?: BackoffState;
}

/**
 * What happened to one account in {@link OAuthRefreshPlugin.revokeUser}. Stable outcomes:
 * - `revoked`: the provider confirmed (HTTP 200); the tokens are forgotten locally.
 * - `failed`: the provider did not confirm (`code`: network, timeout, server_error, client_error);
 *   the tokens are KEPT, so the grant can still be revoked by trying again.
 * - `unsupported`: the provider cannot revoke (no revocation endpoint in its metadata, no issuer to
 *   discover one from, or `unsupported_token_type`); the tokens are forgotten locally, which is all
 *   that can be done: the grant lives on at the provider until it expires.
 * - `nothing_to_revoke`: no refresh token was stored.
 *
 * @example
 * ```ts
 * const outcome: RevokeOutcome = { providerAccountId: "1234", outcome: "failed", code: "timeout", detail: "no answer from the revocation endpoint" };
 * ```
 */
export type RevokeOutcome =
  | { providerAccountId: string; outcome: "revoked" }
  | { providerAccountId: string; outcome: "failed"; code: "network" | "timeout" | "server_error" | "client_error"; detail: string }
  | { providerAccountId: string; outcome: "unsupported"; detail: string }
  | { providerAccountId: string; outcome: "nothing_to_revoke" };

/**
 * What {@link OAuthRefreshPlugin.revokeUser} did: counts per outcome, and each account's outcome.
 * Never contains token values.
 *
 * @example
 * ```ts
 * const result = await oauth.revokeUser(userId);
 * if (result.failed > 0) log.error(`revocation failed: ${result.accounts.map((a) => a.outcome).join(",")}`);
 * ```
 */
export interface RevokeUserResult {
  revoked: number;
  failed: number;
  unsupported: number;
  accounts: RevokeOutcome[];
}

/** A refresh that did not produce tokens: transient (retried once the back-off allows) or stopped. */
export type Failure = Refusal<RefreshErrorCode | "revoked"> & { detail: string; stop?: StoppedMark };

/** A failure reported while the current access token is still served (it has not expired yet). */
export type Served = { code: RefreshErrorCode; detail: string };
