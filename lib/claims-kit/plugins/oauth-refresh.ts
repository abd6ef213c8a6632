import { claim } from "../engine/claim";
import { invalidOption, OAUTH_CODES, type OAuthErrorCode } from "../engine/errors";
import { compileOAuth, type OAuthEngine } from "../refresh/engine";
import type { OAuthRefreshOptions, OAuthRefreshPlugin } from "../refresh/options";
import type { CookieClaim, VaultClaim } from "../refresh/types";
import type { TokenView } from "../engine/types";

const OAUTH_ERRORS = Object.keys(OAUTH_CODES) as OAuthErrorCode[];

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
 * const info = await getAccessToken(oauth); // from nextClaimsKit(): server components, route handlers, actions
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
