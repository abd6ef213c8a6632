// What oauthRefresh() takes and returns: the options, the plugin's server-side operations and its
// error codes. Here, below the plugin, so the refresh machinery depends on nothing above it.
import type { AccessTokenInfo, AccessTokenSource, TokenVault } from "../engine/ports";
import type { ClaimSpec, ClaimsPlugin, KitLogger, TokenView } from "../engine/types";
import type { ClientAuth, ClientPrivateKey, ProviderEndpoints } from "./oauth-client";
import type { AuthjsProviderConfig } from "./profiles";
import type { OAuthErrorCode } from "../engine/errors";
import type { CookieClaim, RevokeUserResult, VaultClaim } from "./types";

/**
 * One account whose tokens the kit keeps, as the Provider API page shows it (no token values).
 *
 * @example
 * ```ts
 * const accounts: LinkedAccount[] = await oauth.accounts(token);
 * ```
 */
export interface LinkedAccount {
  provider: string;
  providerAccountId: string;
  /** Access-token expiry (seconds), null when unknown. */
  expiresAt: number | null;
  refreshCount: number;
  hasRefreshToken: boolean;
  /** The stop code (invalid_grant, revoked…), null while refreshing works. */
  error: string | null;
}


/**
 * Options of {@link oauthRefresh}.
 *
 * @example
 * ```ts
 * const options: OAuthRefreshOptions = { provider: "oidc", issuer, clientId, clientSecret, vault: prismaTokenVault(prisma) };
 * ```
 */
export interface OAuthRefreshOptions {
  /**
   * The Auth.js provider whose tokens to keep fresh: its id (e.g. "oidc", with issuer and client
   * below), or the provider object itself (`Google({...})`, `GitHub({...})`…), from which the kit
   * takes the issuer or token endpoint, client id, secret and auth method (options given here win).
   */
  provider: string | AuthjsProviderConfig;
  /**
   * Auth.js's `AUTH_<ID>_ID` / `_SECRET` / `_ISSUER` fallbacks for a provider object whose values
   * come from the environment, when the options are read before `NextAuth()` has filled them in
   * (the eager form; the lazy `oauthRefresh(() => options)` is read after). E.g. `env: process.env`:
   * the kit reads no environment variable itself.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * "vault" (default): tokens live in a {@link TokenVault} (the Account row), the cookie holds only
   * the account and the expiry. "cookie": everything in the JWT, for apps without a database.
   */
  mode?: "vault" | "cookie";
  vault?: TokenVault;
  /** Discover the token endpoint from this issuer… */
  issuer?: string;
  /** …or give it. */
  tokenEndpoint?: string;
  /** Required, unless the provider object (or its `AUTH_<ID>_ID` variable) gives it. */
  clientId?: string;
  clientSecret?: string;
  /** How the client authenticates at the token and revocation endpoints. Default `client_secret_basic`. */
  clientAuth?: ClientAuth;
  /** For `private_key_jwt`: the client's private key (a private JWK, or a WebCrypto key with its kid). */
  clientPrivateKey?: ClientPrivateKey;
  /** The client's registered `id_token_signed_response_alg`, checked on id_tokens a refresh returns (default: what discovery announces, else RS256). */
  idTokenSignedResponseAlg?: string;
  /** Refresh this many seconds before expiry (at most half the token's lifetime). Default 60. */
  skewSeconds?: number;
  /** Token-endpoint timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Vault mode: how long another process may wait for the lease holder's result. Default timeout + 2 s. */
  waitMs?: number;
  /** Cookie mode: how long the result of a refresh is served to requests still carrying the previous refresh token. Default 30 s. */
  graceSeconds?: number;
  /**
   * After a `client_error` (the provider refused this client: a wrong secret during a deploy), try
   * again after this many seconds, counted from when the error was recorded. Default 300.
   * `invalid_grant` and `revoked` are never retried (the grant is gone: sign in again).
   */
  clientErrorRetrySeconds?: number;
  /**
   * After a failed attempt (transient: 5xx, timeout, network, 429; or a first `refresh_rejected`),
   * nobody calls the provider for that grant before the back-off ends: `initialSeconds` (default 1)
   * doubling per failure in a row up to `maxSeconds` (default 300), each step shortened by up to a
   * quarter at random (`random`, default Math.random; tests pass a constant), never before the
   * provider's Retry-After. Shared by every instance through the vault; in cookie mode carried in
   * the claim. Meanwhile requests get the current access token while it is valid, then the error.
   */
  backoff?: { initialSeconds?: number; maxSeconds?: number; random?: () => number };
  /** Cookie mode: keep the id_token in the cookie (it is large; off by default). */
  keepIdToken?: boolean;
  fetch?: typeof fetch;
  /**
   * The wall clock (milliseconds) for what instances compare with each other: the vault lease and
   * its hold, waiting for another instance, cookie mode's grace. Default `Date.now`; tests pass a
   * fake one. (Expiry and the back-off follow the kit's clock: `jwt()`'s `now`.)
   */
  clock?: () => number;
  /** Where refresh and revocation events go (never token values). Default: warnings and errors to the console. */
  logger?: KitLogger;
  /**
   * More providers a user can link to the same account (vault mode): each keeps its own token set,
   * refreshed independently, in the same vault. `forProvider(id)` hands server code its token.
   */
  linked?: LinkedProviderOptions[];
}

/**
 * A linked provider: its own client settings; the vault, mode, logger and fetch are the main options'.
 *
 * @example
 * ```ts
 * const work: LinkedProviderOptions = { provider: "work", issuer: process.env.AUTH_WORK_ISSUER, clientId: "app", clientSecret };
 * ```
 */
export type LinkedProviderOptions = Omit<OAuthRefreshOptions, "vault" | "mode" | "linked" | "logger" | "clock">;

type Claims = { oauth: ClaimSpec<VaultClaim | CookieClaim, "token"> };

/**
 * The refresh plugin, plus the server-side operations on the tokens it manages.
 *
 * @example
 * ```ts
 * const oauth: OAuthRefreshPlugin = oauthRefresh({ provider: "oidc", issuer, clientId, clientSecret, vault });
 * if (oauth.isDue(token)) await fetch("/api/auth/session");
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no intents
export interface OAuthRefreshPlugin extends ClaimsPlugin<"oauth", Claims, {}, OAuthErrorCode>, AccessTokenSource {
  /** The current access token of a (decoded) session token; refreshes first when due. Server only. */
  accessToken(token: TokenView | null | undefined, now?: number): Promise<AccessTokenInfo | null>;
  /**
   * Revoke a user's refresh tokens at the provider (RFC 7009) and forget them locally, but only
   * where the provider confirmed: a failed revocation keeps the tokens (a grant still live at the
   * provider must stay revocable) and is reported in the result. Where the provider cannot revoke
   * at all (`unsupported`) the tokens are forgotten locally, the only thing left to do.
   */
  revokeUser(userId: string): Promise<RevokeUserResult>;
  /** The provider's endpoints (discovered once from the issuer), e.g. to call its userinfo API. */
  endpoints(): Promise<ProviderEndpoints>;
  /**
   * Where to send the browser to end the session at the provider too (OIDC RP-Initiated Logout
   * 1.0): its `end_session_endpoint` with `id_token_hint` (from the vault, or the cookie with
   * `keepIdToken`; else `client_id`) and `post_logout_redirect_uri`, which must be registered at
   * the provider. `null` when the provider has no such endpoint. Call it before signing out.
   */
  endSessionUrl(token: TokenView | null | undefined, postLogoutRedirectUri: string): Promise<string | null>;
  /**
   * Validate the options now (throws `invalid_option` naming the option). With the lazy form
   * `oauthRefresh(() => options)`, call it when the server starts (instrumentation.ts).
   */
  check(): void;
  /**
   * Whether a token's access token is due for a refresh (for a proxy deciding to refresh). False
   * for a claim whose refresh stopped, until a `client_error` back-off has passed, and in cookie
   * mode while the claim's back-off after a failed attempt runs.
   */
  isDue(token: TokenView | null | undefined, now?: number): boolean;
  /**
   * The access token of one provider (the one signed in with, or a linked one), refreshed first
   * when due: `getAccessToken(oauth.forProvider("github"))`.
   */
  forProvider(provider: string): AccessTokenSource;
  /** Every account of the token's user whose tokens the kit keeps, per provider, without token values. */
  accounts(token: TokenView | null | undefined): Promise<LinkedAccount[]>;
}


