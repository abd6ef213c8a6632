import { claim } from "../core/claim";
import { ClaimsKitError, invalidOption } from "../core/errors";
import type { AccessTokenInfo, AccessTokenSource, TokenVault } from "../core/ports";
import type { ClaimSpec, ClaimsPlugin, KitLogger, TokenView } from "../core/types";
import { cookieRefresher } from "../refresh/cookie-mode";
import { providerClient } from "../refresh/provider";
import { revokeUserTokens } from "../refresh/revoke";
import { fromAuthjsProvider, type AuthjsProviderConfig, type ProviderProfile } from "../refresh/profiles";
import { CLIENT_AUTH_METHODS, type ClientAuth, type ClientPrivateKey, type ProviderEndpoints } from "../refresh/oauth-client";
import type { RefreshErrorCode } from "../refresh/token-endpoint";
import type { CookieClaim, RevokeUserResult, VaultClaim } from "../refresh/types";
import { accountKey as keyOf, vaultRefresher } from "../refresh/vault-mode";

/** The codes the refresh plugin records (`session.errors.oauth`). */
export type OAuthErrorCode = RefreshErrorCode | "revoked";

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
  /** Cookie mode: keep the id_token in the cookie (it is large; off by default). */
  keepIdToken?: boolean;
  fetch?: typeof fetch;
  /** Where refresh and revocation events go (never token values). Default: warnings and errors to the console. */
  logger?: KitLogger;
}

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
   * for a claim whose refresh stopped, until a `client_error` back-off has passed.
   */
  isDue(token: TokenView | null | undefined, now?: number): boolean;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const OAUTH_ERRORS: readonly OAuthErrorCode[] = ["invalid_grant", "network", "timeout", "server_error", "rate_limited", "client_error", "invalid_id_token", "no_refresh_token", "reauth_required", "revoked"];

/** Said once per process and provider: the usual reasons a sign-in brings no refresh token. */
const NO_REFRESH_TOKEN_HINT =
  "refresh is configured but the provider gave no refresh token at sign-in, so the user must sign in again when the access token expires. " +
  "Likely causes: the authorization request lacks scope offline_access together with prompt=consent (OIDC Core 11; AUTH_OIDC_PROMPT), " +
  "Google needs access_type=offline and prompt=consent (AUTH_OIDC_AUTH_PARAMS), or the client is not allowed the refresh_token grant at the provider";
const hinted = new Set<string>();

function fail(code: OAuthErrorCode, detail: string): never {
  throw new ClaimsKitError(code, detail);
}

/**
 * Keep an OAuth 2.0 / OIDC access token fresh without ever losing the session:
 * refresh ahead of expiry; single-flight per grant in a process; across processes a lease in the
 * vault makes exactly one instance call the provider while the others wait for its result; keep
 * the old refresh token when none comes back; transient failures (network, timeout, server_error)
 * are recorded on the token and retried, never sign the user out. A terminal failure
 * (`invalid_grant`, `revoked`, `no_refresh_token`) marks the claim as stopped: no more refresh
 * work, `isDue()` false, the code reported in `session.errors.oauth` (the client helper sends the
 * user to sign in); `client_error` is tried again after `clientErrorRetrySeconds`. Rotated tokens
 * that cannot be saved are served from memory and saved later, never refreshed from the consumed
 * token. Tokens are `token`-only claims or live in the vault: they never reach `session()`.
 *
 * @example
 * ```ts
 * export const oauth = oauthRefresh({ provider: "oidc", issuer, clientId, clientSecret, vault: prismaTokenVault(prisma) });
 * // Options from the environment, read on first use (so `next build` needs no secrets):
 * export const lazy = oauthRefresh(() => ({ provider: "oidc", issuer: process.env.AUTH_OIDC_ISSUER, clientId: process.env.AUTH_OIDC_ID ?? "" }));
 * claimsKit({ plugins: [..., oauth] });
 * const info = await getAccessToken(oauth); // from nextHelpers(): server components, route handlers, actions
 * ```
 */
export function oauthRefresh(options: OAuthRefreshOptions | (() => OAuthRefreshOptions)): OAuthRefreshPlugin {
  // The lazy form is resolved (and validated) on first use or `check()`: configuration read from
  // the environment need not exist while `next build` collects page data.
  let compiled: OAuthEngine | undefined;
  const engine = () => (compiled ??= compileOAuth(typeof options === "function" ? options() : options));
  if (typeof options !== "function") engine();
  return {
    id: "oauth",
    // Cookie mode carries the tokens themselves (JWT access tokens can be large): above the kit's default limit.
    claims: { oauth: claim.token<VaultClaim | CookieClaim>(undefined, { maxBytes: 16 * 1024 }) },
    errors: OAUTH_ERRORS,
    load: (ctx) => engine().load(ctx),
    jwt: (ctx) => engine().jwt(ctx),
    isDue: (token, now) => engine().isDue(token, now),
    accessToken: (token, now) => engine().accessToken(token, now),
    endpoints: () => engine().endpoints(),
    endSessionUrl: (token, uri) => engine().endSessionUrl(token, uri),
    revokeUser: (userId) => engine().revokeUser(userId),
    check: () => void engine(),
  };
}

type OAuthEngine = Omit<OAuthRefreshPlugin, "id" | "claims" | "errors" | "check" | "load" | "jwt"> & Required<Pick<OAuthRefreshPlugin, "load" | "jwt">>;

/** Options with the provider as its id: a provider object's settings filled in under the explicit ones. */
type ResolvedOptions = Omit<OAuthRefreshOptions, "provider" | "clientId"> & { provider: string; clientId: string; profile?: ProviderProfile };

function resolveProvider(options: OAuthRefreshOptions): ResolvedOptions {
  if (typeof options?.provider !== "object" || options.provider === null) return options as ResolvedOptions;
  const derived = fromAuthjsProvider(options.provider);
  const explicit = Object.fromEntries(Object.entries(options).filter(([key, value]) => key !== "provider" && value !== undefined));
  return { ...derived, ...explicit } as ResolvedOptions;
}

/** Validate the options and build the refresh machinery. Throws `invalid_option` naming the option. */
function compileOAuth(given: OAuthRefreshOptions): OAuthEngine {
  const where = "oauthRefresh";
  const options = resolveProvider(given);
  const mode = options?.mode ?? "vault";
  if (typeof options?.provider !== "string" || !options.provider) invalidOption(where, "provider", "must name the Auth.js provider id (e.g. \"oidc\")");
  if (mode !== "vault" && mode !== "cookie") invalidOption(where, "mode", 'must be "vault" or "cookie"');
  if (mode === "vault" && !options.vault) invalidOption(where, "vault", 'is required in "vault" mode (e.g. prismaTokenVault(prisma))');
  if (!options.issuer && !options.tokenEndpoint) invalidOption(where, "issuer", "or tokenEndpoint is required");
  if (typeof options.clientId !== "string" || !options.clientId) invalidOption(where, "clientId", "is required");
  const clientAuth = options.clientAuth ?? "client_secret_basic";
  if (!CLIENT_AUTH_METHODS.includes(clientAuth)) invalidOption(where, "clientAuth", `must be one of ${CLIENT_AUTH_METHODS.join(", ")}`);
  if (clientAuth === "private_key_jwt" && !options.clientPrivateKey) invalidOption(where, "clientPrivateKey", 'is required with clientAuth "private_key_jwt"');
  if (clientAuth !== "none" && clientAuth !== "private_key_jwt" && !options.clientSecret) invalidOption(where, "clientSecret", `is required with clientAuth "${clientAuth}"`);
  const skew = options.skewSeconds ?? 60;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const waitMs = options.waitMs ?? timeoutMs + 2_000;
  const graceSeconds = options.graceSeconds ?? 30;
  const clientErrorRetrySeconds = options.clientErrorRetrySeconds ?? 300;
  for (const [name, value] of Object.entries({ skewSeconds: skew, timeoutMs, waitMs, graceSeconds, clientErrorRetrySeconds })) {
    if (!Number.isSafeInteger(value) || value < 0) invalidOption(where, name, "must be a whole number (0 or more)");
  }
  // Without a logger, warnings and errors still reach the console: a lost lease, tokens that could
  // not be saved and a failed revocation must never pass silently. Routine lines are dropped.
  const log: KitLogger = options.logger ?? { info() {}, warn: (m) => console.warn(`[claims-kit] ${m}`), error: (m) => console.error(`[claims-kit] ${m}`) };
  const provider = providerClient({ ...options, clientAuth, skew, timeoutMs, clientErrorRetrySeconds, log });
  const { due, retryable } = provider;
  const vaultMode = options.vault ? vaultRefresher({ vault: options.vault, provider, log, timeoutMs, waitMs }) : undefined;
  const cookieMode = cookieRefresher({ provider, graceSeconds, keepIdToken: options.keepIdToken ?? false });
  const vault = options.vault;
  const unsaved = vaultMode?.unsaved;
  const saveUnsaved = (key: string) => vaultMode!.saveUnsaved(key);
  const ensureFresh: NonNullable<typeof vaultMode>["ensureFresh"] = (ref, now) => vaultMode!.ensureFresh(ref, now);
  const refreshCookie = cookieMode.refreshCookie;

  const claimOf = (token: TokenView | null | undefined) => token?.oauth as VaultClaim | CookieClaim | undefined;

  return {
    async load(ctx) {
      const account = ctx.account;
      if (ctx.reason !== "signIn" || !account || account.provider !== options.provider) return undefined;
      const accessToken = typeof account.access_token === "string" ? account.access_token : undefined;
      if (!accessToken) return { oauth: null };
      const refreshToken = typeof account.refresh_token === "string" ? account.refresh_token : undefined;
      const idToken = typeof account.id_token === "string" ? account.id_token : undefined;
      const expiresAt = typeof account.expires_at === "number" ? account.expires_at : ctx.now + 3600;
      const noRefreshToken = () => {
        if (!hinted.has(options.provider)) {
          hinted.add(options.provider);
          const needs = options.profile ? ` This provider needs ${options.profile.offline}.` : "";
          log.warn(`oauthRefresh(${options.provider}): ${NO_REFRESH_TOKEN_HINT}.${needs}`);
        }
        return { nr: 1 as const };
      };
      if (mode === "cookie") {
        return { oauth: { at: accessToken, ...(refreshToken ? { rt: refreshToken } : noRefreshToken()), e: expiresAt, i: ctx.now, ...(options.keepIdToken && idToken ? { it: idToken } : {}) } };
      }
      const ref = { provider: options.provider, providerAccountId: String(account.providerAccountId) };
      // A new grant replaces any tokens this process still held unsaved for the account.
      unsaved?.delete(keyOf(ref));
      await vault!.store(ref, { accessToken, refreshToken, idToken, expiresAt }, ctx.now);
      // The vault keeps an earlier sign-in's refresh token when this one brought none (Google sends
      // one on the first consent only): only with none at all is the user told.
      const stored = refreshToken ? null : await vault!.read(ref);
      const nr = refreshToken || stored?.refreshToken ? {} : noRefreshToken();
      return { oauth: { p: ref.provider, a: ref.providerAccountId, ...nr, e: expiresAt, i: ctx.now } };
    },
    async jwt(ctx) {
      const c = claimOf(ctx.token);
      if (!c) return undefined;
      if (c.s && !retryable(c.s.c, c.s.t, ctx.now)) {
        // Stopped: no refresh work and no cookie change; the code stays in session.errors.oauth
        // (the reauth hook reads it there).
        ctx.report(c.s.c, `refresh stopped after ${c.s.c}`);
        return undefined;
      }
      // No refresh token: say so while the access token lasts; at expiry, "sign in again".
      const waiting = () => {
        if (c.nr) ctx.report("no_refresh_token", "the provider gave no refresh token at sign-in");
        return undefined;
      };
      if ("at" in c) {
        if (!c.s && !due(c.e, c.i, ctx.now)) return waiting();
        const result = await refreshCookie(c, ctx.now);
        if (result.ok) return { oauth: result.claim };
        if (!result.stop) fail(result.code, result.detail);
        ctx.report(result.stop.c, result.detail);
        return { oauth: { ...c, s: result.stop } };
      }
      const ref = { provider: c.p, providerAccountId: c.a };
      // Unsaved rotated tokens: every request of this account tries the save again (an in-memory check otherwise).
      if (unsaved?.has(keyOf(ref))) await saveUnsaved(keyOf(ref));
      if (!c.s && !due(c.e, c.i, ctx.now)) return waiting();
      const result = await ensureFresh(ref, ctx.now);
      if (result.ok) return { oauth: { p: c.p, a: c.a, e: result.entry.expiresAt!, i: result.entry.refreshedAt ?? ctx.now } };
      if (!result.stop) fail(result.code, result.detail);
      ctx.report(result.stop.c, result.detail);
      return { oauth: { p: c.p, a: c.a, ...(c.nr ? { nr: c.nr } : {}), e: c.e, i: c.i, s: result.stop } };
    },
    isDue(token, now = nowSeconds()) {
      const c = claimOf(token);
      if (!c) return false;
      if (c.s) return retryable(c.s.c, c.s.t, now);
      return due(c.e, c.i, now);
    },
    async accessToken(token, now = nowSeconds()) {
      const c = claimOf(token);
      if (!c) return null;
      // Cookie mode cannot persist a refresh from here (no cookie write): it serves an unexpired token.
      if ("at" in c) return c.e <= now ? null : { accessToken: c.at, expiresAt: c.e, refreshCount: null };
      // Through ensureFresh even when fresh: it serves tokens this process holds unsaved.
      const result = await ensureFresh({ provider: c.p, providerAccountId: c.a }, now);
      return result.ok && result.entry.accessToken ? { accessToken: result.entry.accessToken, expiresAt: result.entry.expiresAt!, refreshCount: result.entry.refreshCount } : null;
    },
    endpoints: () => provider.resolveEndpoints(),
    async endSessionUrl(token, postLogoutRedirectUri) {
      const endpoint = (await provider.resolveEndpoints().catch(() => null))?.endSessionEndpoint;
      if (!endpoint) return null;
      const c = claimOf(token);
      const idToken = !c ? null : "at" in c ? c.it : (await vault?.read({ provider: c.p, providerAccountId: c.a }).catch(() => null))?.idToken;
      const url = new URL(endpoint);
      if (idToken) url.searchParams.set("id_token_hint", idToken);
      else url.searchParams.set("client_id", options.clientId);
      url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri);
      return url.toString();
    },
    revokeUser: (userId) => revokeUserTokens({ vault, provider, unsaved, options, log }, userId),
  };
}
