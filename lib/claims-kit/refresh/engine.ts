// One provider's refresh machinery behind the oauthRefresh() plugin: sign-in (tokens into the vault
// or the cookie), refresh on jwt(), access tokens for server code, revocation, RP-initiated logout.
import { invalidOption } from "../engine/errors";
import type { AccessTokenInfo } from "../engine/ports";
import type { KitLogger, TokenView } from "../engine/types";
import type { LinkedAccount, OAuthRefreshOptions, OAuthRefreshPlugin } from "./options";
import { cookieRefresher } from "./cookie-mode";
import { CLIENT_AUTH_METHODS } from "./oauth-client";
import { fromAuthjsProvider, type ProviderProfile } from "./profiles";
import { providerClient } from "./provider";
import { revokeUserTokens } from "./revoke";
import type { CookieClaim, VaultClaim } from "./types";
import { accountKey as keyOf, vaultRefresher, type Fresh } from "./vault-mode";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Said once per process and provider: the usual reasons a sign-in brings no refresh token. */
const NO_REFRESH_TOKEN_HINT =
  "refresh is configured but the provider gave no refresh token at sign-in, so the user must sign in again when the access token expires. " +
  "Likely causes: the authorization request lacks scope offline_access together with prompt=consent (OIDC Core 11; AUTH_OIDC_PROMPT), " +
  "Google needs access_type=offline and prompt=consent (AUTH_OIDC_AUTH_PARAMS), or the client is not allowed the refresh_token grant at the provider";
const hinted = new Set<string>();

/**
 * What one provider's machinery offers the plugin.
 *
 * @example
 * ```ts
 * const engine = compileOAuth({ provider: "oidc", issuer, clientId, clientSecret, vault });
 * ```
 */
export type OAuthEngine = Pick<OAuthRefreshPlugin, "isDue" | "accessToken" | "endSessionUrl" | "revokeUser"> &
  Required<Pick<OAuthRefreshPlugin, "load" | "jwt">> & {
    provider: string;
    options: ResolvedOptions;
    endpoints: OAuthRefreshPlugin["endpoints"];
    /** A linked account's access token, found by the user (not the cookie's claim). */
    accessTokenFor(userId: string, now?: number): Promise<AccessTokenInfo | null>;
    /** The user's accounts at this provider, without token values. */
    accountsOf(userId: string): Promise<LinkedAccount[]>;
  };

/** What server code gets from a vault refresh: the access token, or null when there is none to use. */
function accessTokenInfo(result: Fresh): AccessTokenInfo | null {
  return result.ok && result.entry.accessToken ? { accessToken: result.entry.accessToken, expiresAt: result.entry.expiresAt!, refreshCount: result.entry.refreshCount } : null;
}

/** Options with the provider as its id: a provider object's settings filled in under the explicit ones. */
export type ResolvedOptions = Omit<OAuthRefreshOptions, "provider" | "clientId"> & { provider: string; clientId: string; profile?: ProviderProfile };

export function resolveProvider(options: OAuthRefreshOptions): ResolvedOptions {
  if (typeof options?.provider !== "object" || options.provider === null) return options as ResolvedOptions;
  const derived = fromAuthjsProvider(options.provider, options.env);
  const explicit = Object.fromEntries(Object.entries(options).filter(([key, value]) => key !== "provider" && key !== "env" && value !== undefined));
  return { ...derived, ...explicit } as ResolvedOptions;
}

/** Validate the options and build the refresh machinery. Throws `invalid_option` naming the option. */
export function compileOAuth(given: OAuthRefreshOptions): OAuthEngine {
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
  // Without the sign-in id_token, a multi-tenant issuer's tenant is unknown: every refreshed
  // id_token would be refused. Vault mode keeps it; cookie mode needs keepIdToken.
  if (mode === "cookie" && !options.keepIdToken && options.issuer && /\/(common|organizations|consumers)(\/|$)/.test(new URL(options.issuer).pathname)) {
    invalidOption(where, "keepIdToken", "must be true in cookie mode with a multi-tenant issuer (/common/, /organizations/): the refreshed id_token is checked against the tenant from sign-in");
  }
  const skew = options.skewSeconds ?? 60;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const waitMs = options.waitMs ?? timeoutMs + 2_000;
  const graceSeconds = options.graceSeconds ?? 30;
  const clientErrorRetrySeconds = options.clientErrorRetrySeconds ?? 300;
  for (const [name, value] of Object.entries({ skewSeconds: skew, timeoutMs, waitMs, graceSeconds, clientErrorRetrySeconds })) {
    if (!Number.isSafeInteger(value) || value < 0) invalidOption(where, name, "must be a whole number (0 or more)");
  }
  const backoff = { initialSeconds: options.backoff?.initialSeconds ?? 1, maxSeconds: options.backoff?.maxSeconds ?? 300, random: options.backoff?.random ?? Math.random };
  if (!Number.isSafeInteger(backoff.initialSeconds) || backoff.initialSeconds < 1) invalidOption(where, "backoff.initialSeconds", "must be a whole number of seconds (1 or more)");
  if (!Number.isSafeInteger(backoff.maxSeconds) || backoff.maxSeconds < backoff.initialSeconds) invalidOption(where, "backoff.maxSeconds", "must be a whole number of seconds, at least backoff.initialSeconds");
  if (typeof backoff.random !== "function") invalidOption(where, "backoff.random", "must be a function returning a number in [0, 1)");
  // Without a logger, warnings and errors still reach the console: a lost lease, tokens that could
  // not be saved and a failed revocation must never pass silently. Routine lines are dropped.
  const log: KitLogger = options.logger ?? { info() {}, warn: (m) => console.warn(`[claims-kit] ${m}`), error: (m) => console.error(`[claims-kit] ${m}`) };
  const provider = providerClient({ ...options, clientAuth, skew, timeoutMs, clientErrorRetrySeconds, backoff, log });
  const { due, retryable } = provider;
  if (options.clock !== undefined && typeof options.clock !== "function") invalidOption(where, "clock", "must be a function returning milliseconds since the epoch");
  const clock = options.clock ?? (() => Date.now());
  const vaultMode = options.vault ? vaultRefresher({ vault: options.vault, provider, log, timeoutMs, waitMs, clock }) : undefined;
  const cookieMode = cookieRefresher({ provider, graceSeconds, keepIdToken: options.keepIdToken ?? false, clock });
  const vault = options.vault;
  const unsaved = vaultMode?.unsaved;
  const saveUnsaved = (key: string) => vaultMode!.saveUnsaved(key);
  const ensureFresh: NonNullable<typeof vaultMode>["ensureFresh"] = (ref, now) => vaultMode!.ensureFresh(ref, now);
  const refreshCookie = cookieMode.refreshCookie;

  const claimOf = (token: TokenView | null | undefined) => token?.oauth as VaultClaim | CookieClaim | undefined;

  return {
    provider: options.provider,
    options,
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
        if (result.ok) {
          // Refreshed, or (served) the refresh failed or waits for its back-off and the access
          // token still works: report why, keep serving it.
          if (result.served) ctx.report(result.served.code, result.served.detail);
          return result.claim === c ? undefined : { oauth: result.claim };
        }
        if (result.stop) {
          ctx.report(result.stop.c, result.detail);
          const { b: _backoff, ...rest } = c;
          return { oauth: { ...rest, s: result.stop } };
        }
        // Expired and not refreshed (transient): the failure is data, the back-off rides in the claim.
        ctx.report(result.code, result.detail);
        return result.claim && result.claim !== c ? { oauth: result.claim } : undefined;
      }
      const ref = { provider: c.p, providerAccountId: c.a };
      // Unsaved rotated tokens: every request of this account tries the save again (an in-memory check otherwise).
      if (unsaved?.has(keyOf(ref))) await saveUnsaved(keyOf(ref));
      if (!c.s && !due(c.e, c.i, ctx.now)) return waiting();
      const result = await ensureFresh(ref, ctx.now);
      if (result.ok) {
        if (result.served) ctx.report(result.served.code, result.served.detail);
        const e = result.entry.expiresAt!;
        const i = result.entry.refreshedAt ?? ctx.now;
        // Served without a refresh (backing off): the claim stays as it was, no cookie write.
        return result.served && !c.s && c.e === e && c.i === i ? undefined : { oauth: { p: c.p, a: c.a, e, i } };
      }
      if (!result.stop) {
        // Transient, the access token expired: the failure is data; the back-off lives in the vault.
        ctx.report(result.code, result.detail);
        return undefined;
      }
      ctx.report(result.stop.c, result.detail);
      return { oauth: { p: c.p, a: c.a, ...(c.nr ? { nr: c.nr } : {}), e: c.e, i: c.i, s: result.stop } };
    },
    isDue(token, now = nowSeconds()) {
      const c = claimOf(token);
      if (!c) return false;
      if (c.s) return retryable(c.s.c, c.s.t, now);
      // Cookie mode carries its back-off: nothing to do before it ends.
      if ("at" in c && c.b && now < c.b.r) return false;
      return due(c.e, c.i, now);
    },
    async accessToken(token, now = nowSeconds()) {
      const c = claimOf(token);
      if (!c) return null;
      // Cookie mode cannot persist a refresh from here (no cookie write): it serves an unexpired token.
      if ("at" in c) return c.e <= now ? null : { accessToken: c.at, expiresAt: c.e, refreshCount: null };
      // Through ensureFresh even when fresh: it serves tokens this process holds unsaved.
      const result = await ensureFresh({ provider: c.p, providerAccountId: c.a }, now);
      return accessTokenInfo(result);
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
    async accessTokenFor(userId, now = nowSeconds()) {
      const [ref] = vault ? await vault.accountsOf(userId, options.provider) : [];
      if (!ref) return null;
      const result = await ensureFresh(ref, now);
      return accessTokenInfo(result);
    },
    async accountsOf(userId) {
      if (!vault) return [];
      const refs = await vault.accountsOf(userId, options.provider);
      const entries = await Promise.all(refs.map(async (ref) => ({ ref, entry: await vault.read(ref) })));
      return entries.map(({ ref, entry }) => ({
        provider: ref.provider,
        providerAccountId: ref.providerAccountId,
        expiresAt: entry?.expiresAt ?? null,
        refreshCount: entry?.refreshCount ?? 0,
        hasRefreshToken: Boolean(entry?.refreshToken),
        error: entry?.refreshError ?? null,
      }));
    },
  };
}
