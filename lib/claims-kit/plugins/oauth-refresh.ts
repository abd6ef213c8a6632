import { claim } from "../core/claim";
import { ClaimsKitError, invalidOption } from "../core/errors";
import type { ClaimSpec, ClaimsPlugin, KitLogger, TokenView } from "../core/types";
import { singleFlight } from "../refresh/single-flight";
import {
  discover,
  processRefreshResponse,
  processRevocationResponse,
  requestRefresh,
  requestRevocation,
  TRANSIENT,
  type ClientAuth,
  type ProviderEndpoints,
  type RefreshErrorCode,
  type RefreshOutcome,
  type TokenSet,
} from "../refresh/token-endpoint";
import type { AccountRef, TokenVault, VaultEntry } from "../stores/prisma-token-vault";

/**
 * Why refreshing stopped: `invalid_grant`, `revoked` and `no_refresh_token` until the next sign-in;
 * `client_error` (the provider refused this client, e.g. a wrong secret during a deploy) until
 * `clientErrorRetrySeconds` have passed.
 *
 * @example
 * ```ts
 * const code: StopCode = "invalid_grant";
 * ```
 */
export type StopCode = "invalid_grant" | "client_error" | "no_refresh_token" | "revoked";

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
  rt?: string;
  e: number;
  i: number;
  it?: string;
  /** Set when refreshing stopped. */
  s?: StoppedMark;
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

/**
 * What `accessToken()` gives server code.
 *
 * @example
 * ```ts
 * const info: AccessTokenInfo | null = await oauth.accessToken(token);
 * ```
 */
export interface AccessTokenInfo {
  accessToken: string;
  expiresAt: number;
  refreshCount: number | null;
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
export interface OAuthRefreshPlugin extends ClaimsPlugin<"oauth", Claims> {
  /** The current access token of a (decoded) session token; refreshes first when due. Server only. */
  accessToken(token: TokenView | null | undefined, now?: number): Promise<AccessTokenInfo | null>;
  /**
   * Revoke a user's refresh tokens at the provider (RFC 7009) and forget them locally, but only
   * where the provider confirmed: a failed revocation keeps the tokens (a grant still live at the
   * provider must stay revocable) and is reported in the result. Where the provider cannot revoke
   * at all (`unsupported`) the tokens are forgotten locally, the only thing left to do.
   */
  revokeUser(userId: string): Promise<RevokeUserResult>;
  /**
   * Whether a token's access token is due for a refresh (for a proxy deciding to refresh). False
   * for a claim whose refresh stopped, until a `client_error` back-off has passed.
   */
  isDue(token: TokenView | null | undefined, now?: number): boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

// ---- lease arithmetic (vault mode) ----
// The lease must outlive everything its holder does after taking it; otherwise a second instance
// takes the lease and presents the refresh token the first one is consuming, and a provider with
// reuse detection revokes the whole grant. Worst case after the lease is taken:
//   the re-read under the lease (the ownership check)    1 statement
//   the token call, request and body under one AbortSignal  timeoutMs
//   SAVE_ATTEMPTS saves of the rotated tokens               SAVE_ATTEMPTS statements
//   the back-off between those saves                        100 + 200 + 300 + 400 ms = 1 s
//   margin: the acquire statement itself, clock skew between instances (each compares the lease
//   with its own clock), event-loop and GC stalls            LEASE_MARGIN_MS
// with each vault statement assumed to finish within STATEMENT_MS (the database is local and the
// statements touch one row by its unique key; a database slower than that is an outage).
// Default timeout 10 s: 1 + 10 + 5 + 1 + 5 = 22 s. Discovery never runs under the lease (it would
// add up to 2 x timeoutMs), and the holder checks right before calling the provider that the lease
// is still its own and still covers the call and every save.
const STATEMENT_MS = 1_000;
const SAVE_ATTEMPTS = 5;
const saveBackoffMs = (attempt: number) => 100 * attempt;
const SAVE_BACKOFF_TOTAL_MS = Array.from({ length: SAVE_ATTEMPTS - 1 }, (_, i) => saveBackoffMs(i + 1)).reduce((a, b) => a + b, 0);
const SAVE_BUDGET_MS = SAVE_ATTEMPTS * STATEMENT_MS + SAVE_BACKOFF_TOTAL_MS;
const LEASE_MARGIN_MS = 5_000;
/** Background retries of a save that failed (about a minute in all), then on this account's requests. */
const BACKGROUND_SAVE_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/** A short, stable digest of a refresh token: a map key that is not the token itself. */
async function digest(value: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return Array.from(bytes.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A log-safe description of a storage error: its class and code, never its message (which may quote parameters). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? `${err.name} ${code}` : err.name;
}

function fail(code: RefreshErrorCode | "revoked", detail: string): never {
  throw new ClaimsKitError(code, detail);
}

/** A refresh that did not produce tokens: transient (retried on the next request) or stopped. */
type Failure = { ok: false; code: RefreshErrorCode | "revoked"; detail: string; stop?: StoppedMark };

/** Rotated tokens this process holds but could not save yet (the vault still has the consumed refresh token). */
interface Unsaved {
  ref: AccountRef;
  owner: string;
  /** The refresh token the refresh sent (consumed at the provider). */
  presented: string;
  tokens: TokenSet;
  refreshedAt: number;
  refreshCount: number;
  idToken: string | null;
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
  const clientErrorRetrySeconds = options.clientErrorRetrySeconds ?? 300;
  for (const [name, value] of Object.entries({ skewSeconds: skew, timeoutMs, waitMs, graceSeconds, clientErrorRetrySeconds })) {
    if (!Number.isSafeInteger(value) || value < 0) invalidOption(where, name, "must be a whole number (0 or more)");
  }
  const vault = options.vault;
  // Without a logger, warnings and errors still reach the console: a lost lease, tokens that could
  // not be saved and a failed revocation must never pass silently. Routine lines are dropped.
  const log: KitLogger = options.logger ?? { info() {}, warn: (m) => console.warn(`[claims-kit] ${m}`), error: (m) => console.error(`[claims-kit] ${m}`) };
  const leaseMs = STATEMENT_MS + timeoutMs + SAVE_BUDGET_MS + LEASE_MARGIN_MS;

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

  /** The token endpoint, or the transient failure to report (discovery is never retried under a lease). */
  async function tokenEndpointOrFailure(): Promise<string | Failure> {
    try {
      return (await resolveEndpoints()).tokenEndpoint;
    } catch (err) {
      return { ok: false, code: "network", detail: `discovery failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  /** One refresh_token grant at a known endpoint: no discovery here (it may run under a lease). */
  async function callProvider(tokenEndpoint: string, refreshToken: string, now: number): Promise<RefreshOutcome> {
    const result = await requestRefresh({ tokenEndpoint, clientId: options.clientId, clientSecret: options.clientSecret, clientAuth, refreshToken, timeoutMs, fetch: options.fetch });
    const outcome = processRefreshResponse(result, refreshToken, now);
    log.info(`oauth refresh ${outcome.ok ? `ok rotated=${outcome.tokens.rotated}` : `failed ${outcome.code}: ${outcome.detail}`}`);
    return outcome;
  }

  const effectiveSkew = (e: number, i: number | null | undefined) => (i ? Math.min(skew, Math.max(0, Math.floor((e - i) / 2))) : skew);
  const due = (e: number | null, i: number | null | undefined, now: number) => e === null || now >= e - effectiveSkew(e, i);
  /** Whether a stopped refresh may be tried again: only a client_error, once its back-off has passed. */
  const retryable = (code: string, at: number | null, now: number) => code === "client_error" && (at === null || now >= at + clientErrorRetrySeconds);
  const stopped = (code: string, at: number, detail = `refresh stopped after ${code}`): Failure => ({ ok: false, code: code as StopCode, detail, stop: { c: code as StopCode, t: at } });

  // ---- vault mode ----
  type Fresh = { ok: true; entry: VaultEntry } | Failure;
  const vaultFlight = singleFlight<Fresh>();
  const keyOf = (ref: AccountRef) => `${ref.provider}:${ref.providerAccountId}`;

  // Rotated tokens whose save failed, by account. They are the provider's only live tokens: this
  // process serves them and keeps trying to save them, and never refreshes that account from the
  // vault meanwhile (the vault still holds the refresh token they replaced, which is consumed).
  const unsaved = new Map<string, Unsaved>();
  const saveFlight = singleFlight<"saved" | "dropped" | "failed">();

  const entryOf = (u: Unsaved): VaultEntry => ({
    accessToken: u.tokens.accessToken,
    refreshToken: u.tokens.refreshToken,
    idToken: u.idToken,
    expiresAt: u.tokens.expiresAt,
    refreshedAt: u.refreshedAt,
    refreshCount: u.refreshCount,
    refreshError: null,
    refreshErrorAt: null,
    leaseOwner: null,
    leaseUntil: null,
  });

  /**
   * Save a refresh's tokens: under the lease when it is still ours; otherwise (it expired and
   * another instance may have taken it) only where the row still holds the refresh token this
   * refresh presented. That second write is what keeps the grant: our tokens are the provider's
   * only live ones, and an instance that took the lease finds them when it re-reads before calling.
   * "dropped": the row has newer tokens, was revoked or signed in again, which all win. Throws
   * when the vault cannot be written.
   */
  async function persist(u: Unsaved): Promise<"saved" | "dropped"> {
    if (await vault!.complete(u.ref, u.owner, u.tokens, u.refreshedAt)) return "saved";
    log.error(`oauth refresh: lost the lease before saving the rotated tokens of ${keyOf(u.ref)}; saving them only if the account still holds the refresh token that refresh presented`);
    if (await vault!.adopt(u.ref, u.presented, u.tokens, u.refreshedAt)) return "saved";
    log.error(`oauth refresh: rotated tokens of ${keyOf(u.ref)} not saved: the account has newer tokens, was revoked, or signed in again`);
    return "dropped";
  }

  /** Try to save an account's unsaved tokens once (shared by requests and the background retry). */
  function saveUnsaved(key: string): Promise<"saved" | "dropped" | "failed"> {
    return saveFlight(key, async () => {
      const u = unsaved.get(key);
      if (!u) return "saved";
      try {
        const result = await persist(u);
        if (unsaved.get(key) === u) unsaved.delete(key);
        if (result === "saved") log.info(`oauth refresh: rotated tokens of ${key} saved after earlier failures`);
        return result;
      } catch (err) {
        log.warn(`oauth refresh: rotated tokens of ${key} still not saved: ${describe(err)}`);
        return "failed";
      }
    });
  }

  /** Bounded background retries, so the save does not wait for this user's next request. */
  function retryInBackground(key: string, index = 0): void {
    const delay = BACKGROUND_SAVE_DELAYS_MS[index];
    if (delay === undefined) {
      log.error(`oauth refresh: rotated tokens of ${key} still not saved after background retries; retrying on this account's requests`);
      return;
    }
    // Not unref'd: a process about to exit with the provider's only live tokens unsaved should
    // try to save them first (bounded: about a minute).
    setTimeout(() => {
      void saveUnsaved(key).then((result) => {
        if (result === "failed" && unsaved.has(key)) retryInBackground(key, index + 1);
      });
    }, delay);
  }

  /** After the provider rotated: save with retries; if every attempt fails, keep the tokens in memory. */
  async function saveRotated(u: Unsaved): Promise<Fresh | "reread"> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await persist(u)) === "saved" ? { ok: true, entry: entryOf(u) } : "reread";
      } catch (err) {
        if (attempt >= SAVE_ATTEMPTS) {
          // The lease is left to expire on its own (the vault is unreachable anyway); until then it
          // keeps other instances from presenting the consumed refresh token.
          unsaved.set(keyOf(u.ref), u);
          retryInBackground(keyOf(u.ref));
          log.error(`oauth refresh: could not save the rotated tokens of ${keyOf(u.ref)} (${describe(err)}); serving them from this process and retrying the save`);
          return { ok: true, entry: entryOf(u) };
        }
        await sleep(saveBackoffMs(attempt));
      }
    }
  }

  /** Holding the lease: re-read, check it is still ours, call the provider, save. "reread": go round again. */
  async function refreshUnderLease(ref: AccountRef, owner: string, tokenEndpoint: string, now: number): Promise<Fresh | "reread"> {
    // Read again under the lease: the previous holder may have just finished, recorded a terminal
    // error, or the tokens may have been revoked or replaced by a sign-in.
    const current = await vault!.read(ref);
    if (!current) return stopped("no_refresh_token", now, "the account has no tokens in the vault");
    if (!due(current.expiresAt, current.refreshedAt, now) && current.accessToken) {
      await vault!.release(ref, owner);
      return { ok: true, entry: current };
    }
    if (current.refreshError && !retryable(current.refreshError, current.refreshErrorAt, now)) {
      await vault!.release(ref, owner);
      return stopped(current.refreshError, current.refreshErrorAt ?? now);
    }
    if (!current.refreshToken) {
      await vault!.release(ref, owner);
      return stopped("no_refresh_token", now, "the provider gave no refresh token");
    }
    // Right before the call: the lease must still be ours and still cover the call and every save.
    if (current.leaseOwner !== owner || current.leaseUntil === null || current.leaseUntil * 1000 < Date.now() + timeoutMs + SAVE_BUDGET_MS) {
      log.warn(`oauth refresh: the lease on ${keyOf(ref)} was lost or ran short before the provider call; not calling`);
      await vault!.release(ref, owner);
      return "reread";
    }
    const presented = current.refreshToken;
    const outcome = await callProvider(tokenEndpoint, presented, now);
    if (outcome.ok) {
      return saveRotated({ ref, owner, presented, tokens: outcome.tokens, refreshedAt: now, refreshCount: current.refreshCount + 1, idToken: outcome.tokens.idToken ?? current.idToken });
    }
    // Transient: release, keep the refresh token, try again on a later request. Terminal: record it.
    if (TRANSIENT.has(outcome.code)) {
      await vault!.release(ref, owner);
      return { ok: false, code: outcome.code, detail: outcome.detail };
    }
    await vault!.stop(ref, owner, outcome.code, now);
    return stopped(outcome.code, now, outcome.detail);
  }

  /** Make the vault's tokens fresh: one process calls the provider, the others wait for it. */
  function ensureFresh(ref: AccountRef, now: number): Promise<Fresh> {
    const key = keyOf(ref);
    return vaultFlight(key, async (): Promise<Fresh> => {
      const held = unsaved.get(key);
      if (held && (await saveUnsaved(key)) === "failed") {
        if (!due(held.tokens.expiresAt, held.refreshedAt, now)) return { ok: true, entry: entryOf(held) };
        return { ok: false, code: "server_error", detail: "the last rotated tokens are not saved yet: not refreshing again until they are" };
      }
      const deadline = Date.now() + waitMs;
      // Rounds that end in "reread" (lease lost or short, tokens dropped for newer ones) look at the
      // row again at once, a few times, before the wait for another instance applies.
      let rereads = 0;
      for (;;) {
        const entry = await vault!.read(ref);
        if (!entry) return stopped("no_refresh_token", now, "the account has no tokens in the vault");
        if (!due(entry.expiresAt, entry.refreshedAt, now) && entry.accessToken) return { ok: true, entry };
        if (entry.refreshError && !retryable(entry.refreshError, entry.refreshErrorAt, now)) return stopped(entry.refreshError, entry.refreshErrorAt ?? now);
        if (!entry.refreshToken) return stopped("no_refresh_token", now, "the provider gave no refresh token");
        // Endpoints before the lease: a failed discovery is a transient error without a lease.
        const tokenEndpoint = await tokenEndpointOrFailure();
        if (typeof tokenEndpoint !== "string") return tokenEndpoint;
        const owner = crypto.randomUUID();
        if (await vault!.acquire(ref, owner, nowSeconds(), Math.ceil((Date.now() + leaseMs) / 1000))) {
          const result = await refreshUnderLease(ref, owner, tokenEndpoint, now);
          if (result !== "reread") return result;
          if (++rereads <= 2) continue;
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
  /** Refresh tokens the provider refused (by digest) and when: not sent again from this process (client_error: until its back-off passed). */
  const refused = new Map<string, { code: StopCode; at: number }>();

  async function refreshCookie(c: CookieClaim, now: number): Promise<{ ok: true; claim: CookieClaim } | Failure> {
    if (!c.rt) return stopped("no_refresh_token", now, "the provider gave no refresh token");
    const key = await digest(c.rt);
    const served = grace.get(key);
    if (served && served.until >= Date.now()) return { ok: true, claim: served.claim };
    const known = refused.get(key);
    if (known) {
      if (!retryable(known.code, known.at, now)) return stopped(known.code, known.at);
      refused.delete(key);
    }
    const tokenEndpoint = await tokenEndpointOrFailure();
    if (typeof tokenEndpoint !== "string") return tokenEndpoint;
    const outcome = await cookieFlight(key, () => callProvider(tokenEndpoint, c.rt!, now));
    if (!outcome.ok) {
      if (TRANSIENT.has(outcome.code)) return { ok: false, code: outcome.code, detail: outcome.detail };
      if (refused.size > 10_000) refused.clear();
      refused.set(key, { code: outcome.code as StopCode, at: now });
      return stopped(outcome.code, now, outcome.detail);
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
    return { ok: true, claim: next };
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
      // A new grant replaces any tokens this process still held unsaved for the account.
      unsaved.delete(keyOf(ref));
      await vault!.store(ref, { accessToken, refreshToken, idToken, expiresAt }, ctx.now);
      return { oauth: { p: ref.provider, a: ref.providerAccountId, e: expiresAt, i: ctx.now } };
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
      if ("at" in c) {
        if (!c.s && !due(c.e, c.i, ctx.now)) return undefined;
        const result = await refreshCookie(c, ctx.now);
        if (result.ok) return { oauth: result.claim };
        if (!result.stop) fail(result.code, result.detail);
        ctx.report(result.stop.c, result.detail);
        return { oauth: { ...c, s: result.stop } };
      }
      const ref = { provider: c.p, providerAccountId: c.a };
      // Unsaved rotated tokens: every request of this account tries the save again (an in-memory check otherwise).
      if (unsaved.has(keyOf(ref))) await saveUnsaved(keyOf(ref));
      if (!c.s && !due(c.e, c.i, ctx.now)) return undefined;
      const result = await ensureFresh(ref, ctx.now);
      if (result.ok) return { oauth: { p: c.p, a: c.a, e: result.entry.expiresAt!, i: result.entry.refreshedAt ?? ctx.now } };
      if (!result.stop) fail(result.code, result.detail);
      ctx.report(result.stop.c, result.detail);
      return { oauth: { p: c.p, a: c.a, e: c.e, i: c.i, s: result.stop } };
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
    async revokeUser(userId) {
      const result: RevokeUserResult = { revoked: 0, failed: 0, unsupported: 0, accounts: [] };
      if (!vault) return result;
      // A discovery failure is not "no revocation endpoint": it must not make us forget live tokens.
      let found: ProviderEndpoints | Failure;
      try {
        found = await resolveEndpoints();
      } catch (err) {
        found = { ok: false, code: "network", detail: `discovery failed: ${err instanceof Error ? err.message : String(err)}` };
      }
      for (const ref of await vault.accountsOf(userId, options.provider)) {
        const key = keyOf(ref);
        const entry = await vault.read(ref);
        // Unsaved rotated tokens are the live ones: the row holds the refresh token they replaced.
        const refreshToken = unsaved.get(key)?.tokens.refreshToken ?? entry?.refreshToken ?? null;
        let outcome: RevokeOutcome;
        if (!refreshToken) {
          outcome = { providerAccountId: ref.providerAccountId, outcome: "nothing_to_revoke" };
        } else if ("ok" in found) {
          outcome = { providerAccountId: ref.providerAccountId, outcome: "failed", code: "network", detail: found.detail };
        } else if (!found.revocationEndpoint) {
          outcome = { providerAccountId: ref.providerAccountId, outcome: "unsupported", detail: options.issuer ? "the provider's metadata lists no revocation_endpoint" : "no issuer to discover a revocation endpoint from" };
        } else {
          const answer = processRevocationResponse(
            await requestRevocation({ revocationEndpoint: found.revocationEndpoint, token: refreshToken, clientId: options.clientId, clientSecret: options.clientSecret, clientAuth, timeoutMs, fetch: options.fetch }),
          );
          if (answer.ok) outcome = { providerAccountId: ref.providerAccountId, outcome: "revoked" };
          else if (answer.code === "unsupported") outcome = { providerAccountId: ref.providerAccountId, outcome: "unsupported", detail: answer.detail };
          else outcome = { providerAccountId: ref.providerAccountId, outcome: "failed", code: answer.code, detail: answer.detail };
        }
        result.accounts.push(outcome);
        if (outcome.outcome === "failed") {
          // Keep the tokens: the grant is still live at the provider, and only they can revoke it.
          result.failed++;
          log.error(`oauth revokeUser: revocation of ${key} failed (${outcome.code}: ${outcome.detail}); tokens kept so it can be retried`);
          continue;
        }
        if (outcome.outcome === "revoked") result.revoked++;
        if (outcome.outcome === "unsupported") {
          result.unsupported++;
          log.warn(`oauth revokeUser: ${key} cannot be revoked at the provider (${outcome.detail}); forgetting the tokens locally only`);
        }
        unsaved.delete(key);
        await vault.clear(ref, "revoked", nowSeconds());
      }
      return result;
    },
  };
}
