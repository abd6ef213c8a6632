import { claim } from "../core/claim";
import { ClaimsKitError, invalidOption } from "../core/errors";
import type { ClaimSpec, ClaimsPlugin, KitLogger, TokenView } from "../core/types";
import { singleFlight } from "../refresh/single-flight";
import {
  discover,
  processRefreshResponse,
  requestRefresh,
  revokeToken,
  TRANSIENT,
  type ClientAuth,
  type ProviderEndpoints,
  type RefreshErrorCode,
  type RefreshOutcome,
} from "../refresh/token-endpoint";
import type { AccountRef, TokenVault, VaultEntry } from "../stores/prisma-token-vault";

/** Vault mode: which account holds the tokens, and when the access token expires (a hint). */
export interface VaultClaim {
  p: string;
  a: string;
  /** Access-token expiry (seconds). */
  e: number;
  /** When these tokens were issued (seconds): caps the skew for short-lived tokens. */
  i: number;
}

/** Cookie mode: the tokens themselves, in the encrypted token. */
export interface CookieClaim {
  at: string;
  rt?: string;
  e: number;
  i: number;
  it?: string;
}

/** Options of {@link oauthRefresh}. */
export interface OAuthRefreshOptions {
  /** The Auth.js provider id whose tokens to keep fresh, e.g. "oidc". */
  provider: string;
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
  clientId: string;
  clientSecret?: string;
  clientAuth?: ClientAuth;
  /** Refresh this many seconds before expiry (at most half the token's lifetime). Default 60. */
  skewSeconds?: number;
  /** Token-endpoint timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /** Vault mode: how long another process may wait for the lease holder's result. Default timeout + 2 s. */
  waitMs?: number;
  /** Cookie mode: how long the result of a refresh is served to requests still carrying the previous refresh token. Default 30 s. */
  graceSeconds?: number;
  /** Cookie mode: keep the id_token in the cookie (it is large; off by default). */
  keepIdToken?: boolean;
  fetch?: typeof fetch;
  logger?: KitLogger;
}

/** What `accessToken()` gives server code. */
export interface AccessTokenInfo {
  accessToken: string;
  expiresAt: number;
  refreshCount: number | null;
}

type Claims = { oauth: ClaimSpec<VaultClaim | CookieClaim, "token"> };

/** The refresh plugin, plus the server-side operations on the tokens it manages. */
export interface OAuthRefreshPlugin extends ClaimsPlugin<"oauth", Claims> {
  /** The current access token of a (decoded) session token; refreshes first when due. Server only. */
  accessToken(token: TokenView | null | undefined, now?: number): Promise<AccessTokenInfo | null>;
  /** Revoke a user's refresh tokens at the provider (when it has a revocation endpoint) and forget them. */
  revokeUser(userId: string): Promise<number>;
  /** Whether a token's access token is due for a refresh (for a proxy deciding to refresh). */
  isDue(token: TokenView | null | undefined, now?: number): boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A short, stable digest of a refresh token: a map key that is not the token itself. */
async function digest(value: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return Array.from(bytes.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}

function fail(code: RefreshErrorCode | "revoked", detail: string): never {
  throw new ClaimsKitError(code, detail);
}

/**
 * Keep an OAuth 2.0 / OIDC access token fresh without ever losing the session:
 * refresh ahead of expiry; single-flight per grant in a process; across processes a lease in the
 * vault makes exactly one instance call the provider while the others wait for its result; keep
 * the old refresh token when none comes back; transient failures (network, timeout, server_error)
 * are recorded on the token and retried, never sign the user out; `invalid_grant` is recorded
 * once and not retried (the client helper sends the user to sign in). Tokens are `token`-only
 * claims or live in the vault: they never reach `session()`.
 *
 * @example
 * ```ts
 * export const oauth = oauthRefresh({ provider: "oidc", issuer, clientId, clientSecret, vault: prismaTokenVault(prisma) });
 * claimsKit({ plugins: [..., oauth] });
 * const info = await getAccessToken(kit, oauth); // server components, route handlers, actions
 * ```
 */
export function oauthRefresh(options: OAuthRefreshOptions): OAuthRefreshPlugin {
  const where = "oauthRefresh";
  const mode = options?.mode ?? "vault";
  if (typeof options?.provider !== "string" || !options.provider) invalidOption(where, "provider", "must name the Auth.js provider id (e.g. \"oidc\")");
  if (mode !== "vault" && mode !== "cookie") invalidOption(where, "mode", 'must be "vault" or "cookie"');
  if (mode === "vault" && !options.vault) invalidOption(where, "vault", 'is required in "vault" mode (e.g. prismaTokenVault(prisma))');
  if (!options.issuer && !options.tokenEndpoint) invalidOption(where, "issuer", "or tokenEndpoint is required");
  if (typeof options.clientId !== "string" || !options.clientId) invalidOption(where, "clientId", "is required");
  const clientAuth = options.clientAuth ?? "client_secret_basic";
  if (!["client_secret_basic", "client_secret_post", "none"].includes(clientAuth)) invalidOption(where, "clientAuth", "must be client_secret_basic, client_secret_post or none");
  if (clientAuth !== "none" && !options.clientSecret) invalidOption(where, "clientSecret", `is required with clientAuth "${clientAuth}"`);
  const skew = options.skewSeconds ?? 60;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const waitMs = options.waitMs ?? timeoutMs + 2_000;
  const graceSeconds = options.graceSeconds ?? 30;
  for (const [name, value] of Object.entries({ skewSeconds: skew, timeoutMs, waitMs, graceSeconds })) {
    if (!Number.isSafeInteger(value) || value < 0) invalidOption(where, name, "must be a whole number (0 or more)");
  }
  const vault = options.vault;
  const log = options.logger;

  let endpoints: Promise<ProviderEndpoints> | undefined;
  function resolveEndpoints(): Promise<ProviderEndpoints> {
    if (options.tokenEndpoint && !options.issuer) return Promise.resolve({ tokenEndpoint: options.tokenEndpoint });
    endpoints ??= discover(options.issuer!, options.fetch, timeoutMs)
      .then((found) => (options.tokenEndpoint ? { ...found, tokenEndpoint: options.tokenEndpoint } : found))
      .catch((err: unknown) => {
        endpoints = undefined; // retried on the next refresh
        throw err;
      });
    return endpoints;
  }

  async function callProvider(refreshToken: string, now: number): Promise<RefreshOutcome> {
    let tokenEndpoint: string;
    try {
      tokenEndpoint = (await resolveEndpoints()).tokenEndpoint;
    } catch (err) {
      return { ok: false, code: "network", detail: `discovery failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    const result = await requestRefresh({ tokenEndpoint, clientId: options.clientId, clientSecret: options.clientSecret, clientAuth, refreshToken, timeoutMs, fetch: options.fetch });
    const outcome = processRefreshResponse(result, refreshToken, now);
    log?.info(`oauth refresh ${outcome.ok ? `ok rotated=${outcome.tokens.rotated}` : `failed ${outcome.code}: ${outcome.detail}`}`);
    return outcome;
  }

  const effectiveSkew = (e: number, i: number | null | undefined) => (i ? Math.min(skew, Math.max(0, Math.floor((e - i) / 2))) : skew);
  const due = (e: number | null, i: number | null | undefined, now: number) => e === null || now >= e - effectiveSkew(e, i);

  // ---- vault mode ----
  const vaultFlight = singleFlight<{ ok: true; entry: VaultEntry } | { ok: false; code: RefreshErrorCode | "revoked"; detail: string }>();

  /** Make the vault's tokens fresh: one process calls the provider, the others wait for it. */
  function ensureFresh(ref: AccountRef, now: number) {
    return vaultFlight(`${ref.provider}:${ref.providerAccountId}`, async () => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const entry = await vault!.read(ref);
        if (!entry) return { ok: false, code: "no_refresh_token", detail: "the account has no tokens in the vault" };
        if (!due(entry.expiresAt, entry.refreshedAt, now) && entry.accessToken) return { ok: true, entry };
        if (entry.refreshError) return { ok: false, code: entry.refreshError as RefreshErrorCode | "revoked", detail: `refresh stopped after ${entry.refreshError}` };
        if (!entry.refreshToken) return { ok: false, code: "no_refresh_token", detail: "the provider gave no refresh token" };
        // Discovery first: the lease must cover only the refresh call itself.
        await resolveEndpoints().catch(() => undefined);
        const owner = crypto.randomUUID();
        const leaseUntil = nowSeconds() + Math.ceil(timeoutMs / 1000) + 5;
        if (await vault!.acquire(ref, owner, nowSeconds(), leaseUntil)) {
          // Read again under the lease: the previous holder may have just finished.
          const current = (await vault!.read(ref))!;
          if (!due(current.expiresAt, current.refreshedAt, now) && current.accessToken) {
            await vault!.release(ref, owner, null);
            return { ok: true, entry: current };
          }
          const outcome = await callProvider(current.refreshToken ?? entry.refreshToken, now);
          if (outcome.ok) {
            // The provider has consumed the old refresh token: these tokens must not be lost.
            for (let attempt = 1; ; attempt++) {
              try {
                await vault!.complete(ref, outcome.tokens, now);
                break;
              } catch (err) {
                if (attempt >= 5) {
                  log?.error(`oauth refresh: could not save rotated tokens: ${err instanceof Error ? err.message : String(err)}`);
                  return { ok: false, code: "server_error", detail: "could not save the rotated tokens" };
                }
                await sleep(100 * attempt);
              }
            }
            return { ok: true, entry: (await vault!.read(ref))! };
          }
          // Transient: release, keep the refresh token, try again on a later request. Terminal: record it.
          await vault!.release(ref, owner, TRANSIENT.has(outcome.code) ? null : outcome.code);
          return { ok: false, code: outcome.code, detail: outcome.detail };
        }
        // Another instance holds the lease: wait for its result rather than refresh with the same token.
        if (Date.now() > deadline) return { ok: false, code: "timeout", detail: "waited too long for another instance's refresh" };
        await sleep(100);
      }
    });
  }

  // ---- cookie mode ----
  const cookieFlight = singleFlight<RefreshOutcome>();
  const grace = new Map<string, { claim: CookieClaim; until: number }>();
  /** Refresh tokens the provider refused for good (by digest): never sent again from this process. */
  const refused = new Map<string, RefreshErrorCode>();

  async function refreshCookie(c: CookieClaim, now: number): Promise<CookieClaim> {
    if (!c.rt) fail("no_refresh_token", "the provider gave no refresh token");
    const key = await digest(c.rt);
    const served = grace.get(key);
    if (served && served.until >= Date.now()) return served.claim;
    const known = refused.get(key);
    if (known) fail(known, `refresh stopped after ${known}`);
    const outcome = await cookieFlight(key, () => callProvider(c.rt!, now));
    if (!outcome.ok) {
      if (!TRANSIENT.has(outcome.code)) {
        if (refused.size > 10_000) refused.clear();
        refused.set(key, outcome.code);
      }
      fail(outcome.code, outcome.detail);
    }
    const next: CookieClaim = {
      at: outcome.tokens.accessToken,
      rt: outcome.tokens.refreshToken,
      e: outcome.tokens.expiresAt,
      i: now,
      ...(options.keepIdToken && (outcome.tokens.idToken ?? c.it) ? { it: outcome.tokens.idToken ?? c.it } : {}),
    };
    // Requests that still carry the previous refresh token (other tabs, parallel fetches) get this result.
    for (const [k, v] of grace) if (v.until < Date.now()) grace.delete(k);
    grace.set(key, { claim: next, until: Date.now() + graceSeconds * 1000 });
    return next;
  }

  const claimOf = (token: TokenView | null | undefined) => token?.oauth as VaultClaim | CookieClaim | undefined;

  return {
    id: "oauth",
    claims: { oauth: claim.token<VaultClaim | CookieClaim>() },
    async load(ctx) {
      const account = ctx.account;
      if (ctx.reason !== "signIn" || !account || account.provider !== options.provider) return undefined;
      const accessToken = typeof account.access_token === "string" ? account.access_token : undefined;
      if (!accessToken) return { oauth: null };
      const refreshToken = typeof account.refresh_token === "string" ? account.refresh_token : undefined;
      const idToken = typeof account.id_token === "string" ? account.id_token : undefined;
      const expiresAt = typeof account.expires_at === "number" ? account.expires_at : ctx.now + 3600;
      if (mode === "cookie") {
        return { oauth: { at: accessToken, ...(refreshToken ? { rt: refreshToken } : {}), e: expiresAt, i: ctx.now, ...(options.keepIdToken && idToken ? { it: idToken } : {}) } };
      }
      const ref = { provider: options.provider, providerAccountId: String(account.providerAccountId) };
      await vault!.store(ref, { accessToken, refreshToken, idToken, expiresAt }, ctx.now);
      return { oauth: { p: ref.provider, a: ref.providerAccountId, e: expiresAt, i: ctx.now } };
    },
    async jwt(ctx) {
      const c = claimOf(ctx.token);
      if (!c || !due(c.e, c.i, ctx.now)) return undefined;
      if ("at" in c) return { oauth: await refreshCookie(c, ctx.now) };
      const result = await ensureFresh({ provider: c.p, providerAccountId: c.a }, ctx.now);
      if (!result.ok) fail(result.code, result.detail);
      return { oauth: { ...c, e: result.entry.expiresAt!, i: result.entry.refreshedAt ?? ctx.now } };
    },
    isDue(token, now = nowSeconds()) {
      const c = claimOf(token);
      return !!c && due(c.e, c.i, now);
    },
    async accessToken(token, now = nowSeconds()) {
      const c = claimOf(token);
      if (!c) return null;
      // Cookie mode cannot persist a refresh from here (no cookie write): it serves an unexpired token.
      if ("at" in c) return c.e <= now ? null : { accessToken: c.at, expiresAt: c.e, refreshCount: null };
      const ref = { provider: c.p, providerAccountId: c.a };
      const entry = await vault!.read(ref);
      if (!entry?.accessToken) return null;
      if (!due(entry.expiresAt, entry.refreshedAt, now)) return { accessToken: entry.accessToken, expiresAt: entry.expiresAt!, refreshCount: entry.refreshCount };
      const result = await ensureFresh(ref, now);
      return result.ok && result.entry.accessToken ? { accessToken: result.entry.accessToken, expiresAt: result.entry.expiresAt!, refreshCount: result.entry.refreshCount } : null;
    },
    async revokeUser(userId) {
      if (!vault) return 0;
      const found = await resolveEndpoints().catch(() => ({ tokenEndpoint: "" }) as ProviderEndpoints);
      let revoked = 0;
      for (const ref of await vault.accountsOf(userId, options.provider)) {
        const entry = await vault.read(ref);
        if (entry?.refreshToken && found.revocationEndpoint) {
          const ok = await revokeToken({ revocationEndpoint: found.revocationEndpoint, token: entry.refreshToken, clientId: options.clientId, clientSecret: options.clientSecret, clientAuth, timeoutMs, fetch: options.fetch });
          if (ok) revoked++;
        }
        await vault.clear(ref, "revoked");
      }
      return revoked;
    },
  };
}
