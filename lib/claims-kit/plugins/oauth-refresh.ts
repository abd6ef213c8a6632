import { claim } from "../core/claim";
import { invalidOption } from "../core/errors";
import type { AccessTokenInfo, AccessTokenSource, TokenVault } from "../core/ports";
import type { ClaimSpec, ClaimsPlugin, KitLogger, TokenView } from "../core/types";
import { compileOAuth, type LinkedAccount, type OAuthEngine } from "../refresh/engine";
import type { ClientAuth, ClientPrivateKey, ProviderEndpoints } from "../refresh/oauth-client";
import type { AuthjsProviderConfig } from "../refresh/profiles";
import type { RefreshErrorCode } from "../refresh/token-endpoint";
import type { CookieClaim, RevokeUserResult, VaultClaim } from "../refresh/types";

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

export type { LinkedAccount };

const OAUTH_ERRORS: readonly OAuthErrorCode[] = ["invalid_grant", "network", "timeout", "server_error", "rate_limited", "client_error", "refresh_rejected", "invalid_id_token", "no_refresh_token", "reauth_required", "revoked"];

/** The main provider's engine and every linked one's, by provider id. */
function compileAll(options: OAuthRefreshOptions): { main: OAuthEngine; all: Map<string, OAuthEngine> } {
  const main = compileOAuth(options);
  const all = new Map([[main.provider, main]]);
  if (options.linked !== undefined && !Array.isArray(options.linked)) invalidOption("oauthRefresh", "linked", "must be an array of provider options");
  if (options.linked?.length && main.options.mode === "cookie") invalidOption("oauthRefresh", "linked", 'needs "vault" mode: the cookie holds one token set');
  for (const linked of options.linked ?? []) {
    const engine = compileOAuth({ fetch: options.fetch, clock: options.clock, ...linked, mode: "vault", vault: options.vault, logger: options.logger });
    if (all.has(engine.provider)) invalidOption("oauthRefresh", "linked", `names provider "${engine.provider}" twice`);
    all.set(engine.provider, engine);
  }
  return { main, all };
}

/**
 * Keep an OAuth 2.0 / OIDC access token fresh without ever losing the session:
 * refresh ahead of expiry; single-flight per grant in a process; across processes a lease in the
 * vault makes exactly one instance call the provider while the others wait for its result; keep
 * the old refresh token when none comes back; transient failures (network, timeout, server_error)
 * are recorded on the token and retried after an exponential back-off shared by every instance
 * (meanwhile the current access token is served while it lasts), never sign the user out. A terminal failure
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
  let compiled: ReturnType<typeof compileAll> | undefined;
  const engines = () => (compiled ??= compileAll(typeof options === "function" ? options() : options));
  if (typeof options !== "function") engines();
  /** The engine of the provider the token's claim names (cookie mode: the main one). */
  const of = (token: TokenView | null | undefined): OAuthEngine => {
    const c = token?.oauth as VaultClaim | CookieClaim | undefined;
    const { main, all } = engines();
    return c && "p" in c ? (all.get(c.p) ?? main) : main;
  };
  const engineNamed = (provider: string) => {
    const engine = engines().all.get(provider);
    if (!engine) invalidOption("oauthRefresh", "provider", `"${provider}" is not configured (main or linked)`);
    return engine;
  };
  return {
    id: "oauth",
    // Cookie mode carries the tokens themselves (JWT access tokens can be large): above the kit's default limit.
    claims: { oauth: claim.token<VaultClaim | CookieClaim>(undefined, { maxBytes: 16 * 1024 }) },
    errors: OAUTH_ERRORS,
    async load(ctx) {
      // The engine of the provider this sign-in used stores its tokens; the others return undefined.
      const engine = ctx.account ? engines().all.get(String(ctx.account.provider)) : undefined;
      return engine ? engine.load(ctx) : undefined;
    },
    jwt: (ctx) => of(ctx.token).jwt(ctx),
    isDue: (token, now) => of(token).isDue(token, now),
    // The main provider's token, whichever provider the session last signed in with (a link).
    accessToken: (token, now) => {
      const { main } = engines();
      if (of(token) === main) return main.accessToken(token, now);
      return typeof token?.sub === "string" ? main.accessTokenFor(token.sub, now) : Promise.resolve(null);
    },
    endpoints: () => engines().main.endpoints(),
    endSessionUrl: (token, uri) => of(token).endSessionUrl(token, uri),
    async revokeUser(userId) {
      const results = await Promise.all([...engines().all.values()].map((engine) => engine.revokeUser(userId)));
      return results.reduce((sum, r) => ({ revoked: sum.revoked + r.revoked, failed: sum.failed + r.failed, unsupported: sum.unsupported + r.unsupported, accounts: [...sum.accounts, ...r.accounts] }));
    },
    forProvider(provider) {
      return {
        accessToken: async (token) => {
          const engine = engineNamed(provider);
          if (of(token) === engine && token?.oauth) return engine.accessToken(token);
          return typeof token?.sub === "string" ? engine.accessTokenFor(token.sub) : null;
        },
      };
    },
    async accounts(token) {
      if (typeof token?.sub !== "string") return [];
      const userId = token.sub;
      return (await Promise.all([...engines().all.values()].map((engine) => engine.accountsOf(userId)))).flat();
    },
    check: () => void engines(),
  };
}
