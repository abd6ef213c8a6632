import type { TokenSet } from "../core/ports";

// The refresh_token grant in two steps, as in oauth4webapi: a request step that only does HTTP
// (and turns transport failures into data), and a pure processing step that turns the answer into
// new tokens or a typed error. The processing step is what the unit tests pin.

/** Why a refresh did not produce tokens. Stable codes: they end up in `session.errors`. */
export type RefreshErrorCode =
  /** The provider refused the refresh token (revoked, reused, expired): sign in again. */
  | "invalid_grant"
  /** No connection, connection dropped. Transient. */
  | "network"
  /** No answer within the timeout. Transient. */
  | "timeout"
  /** 5xx, or an answer that is not a token response. Transient. */
  | "server_error"
  /** 429: the provider asks to slow down; no call before its Retry-After. Transient. */
  | "rate_limited"
  /** The provider rejects this client (invalid_client, unauthorized_client…): configuration. */
  | "client_error"
  /** Nothing to refresh with. */
  | "no_refresh_token"
  | "reauth_required";

/**
 * Transient failures keep the session and its last good refresh token and are retried.
 *
 * @example
 * ```ts
 * if (!outcome.ok && TRANSIENT.has(outcome.code)) retryLater();
 * ```
 */
export const TRANSIENT: ReadonlySet<RefreshErrorCode> = new Set(["network", "timeout", "server_error", "rate_limited"]);

/** What the request step saw. */
export type TokenEndpointResult =
  | { kind: "response"; status: number; body: string; retryAfter?: string | null }
  | { kind: "network"; message: string }
  | { kind: "timeout" };


export type RefreshOutcome =
  | { ok: true; tokens: TokenSet; /** Something to warn about (an invalid expires_in was replaced). */ warning?: string }
  | { ok: false; code: RefreshErrorCode; detail: string; /** rate_limited: seconds to wait. */ retryAfter?: number };

/** The shortest lifetime assumed for an access token whose expires_in is missing the point (0, negative, not a number). */
export const MIN_LIFETIME = 60;

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), capped at an hour; default 30. */
function retryAfterSeconds(header: string | null | undefined, now: number): number {
  const seconds = header && /^\d+$/.test(header.trim()) ? Number(header.trim()) : header ? Math.ceil(Date.parse(header) / 1000) - now : NaN;
  return Number.isFinite(seconds) ? Math.min(3600, Math.max(1, seconds)) : 30;
}

/** How the client authenticates at the token endpoint. */
export type ClientAuth = "client_secret_basic" | "client_secret_post" | "none";

export interface RefreshRequest {
  tokenEndpoint: string;
  clientId: string;
  clientSecret?: string;
  clientAuth: ClientAuth;
  refreshToken: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** Client authentication at the provider's endpoints (RFC 6749 2.3.1). */
function authenticate(req: { clientId: string; clientSecret?: string; clientAuth: ClientAuth }, body: URLSearchParams, headers: Record<string, string>): void {
  if (req.clientAuth === "client_secret_basic") {
    // Form-encode id and secret before base64, as the RFC asks.
    const encode = (v: string) => encodeURIComponent(v).replace(/%20/g, "+");
    headers.authorization = `Basic ${btoa(`${encode(req.clientId)}:${encode(req.clientSecret ?? "")}`)}`;
    return;
  }
  body.set("client_id", req.clientId);
  if (req.clientAuth === "client_secret_post") body.set("client_secret", req.clientSecret ?? "");
}

/**
 * POST grant_type=refresh_token. Never throws: transport failures come back as data.
 *
 * @example
 * ```ts
 * const result = await requestRefresh({ tokenEndpoint, clientId, clientSecret, clientAuth: "client_secret_basic", refreshToken, timeoutMs: 10_000 });
 * ```
 */
export async function requestRefresh(req: RefreshRequest): Promise<TokenEndpointResult> {
  const body = new URLSearchParams({ grant_type: "refresh_token", refresh_token: req.refreshToken });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  authenticate(req, body, headers);
  const signal = AbortSignal.timeout(req.timeoutMs);
  try {
    const response = await (req.fetch ?? fetch)(req.tokenEndpoint, { method: "POST", headers, body, signal, redirect: "manual" });
    return { kind: "response", status: response.status, body: await response.text(), retryAfter: response.headers.get("retry-after") };
  } catch (err) {
    if (signal.aborted) return { kind: "timeout" };
    return { kind: "network", message: err instanceof Error ? err.message : String(err) };
  }
}

function parse(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Turn a token-endpoint result into tokens or a typed error. Pure.
 * - no new refresh token in the answer: keep `previousRefreshToken` (providers that do not rotate);
 * - no `expires_in`: assume `defaultLifetime` seconds.
 *
 * @example
 * ```ts
 * const outcome = processRefreshResponse(result, oldRefreshToken, Math.floor(Date.now() / 1000));
 * ```
 */
export function processRefreshResponse(result: TokenEndpointResult, previousRefreshToken: string, now: number, defaultLifetime = 3600): RefreshOutcome {
  if (result.kind === "timeout") return { ok: false, code: "timeout", detail: "no answer from the token endpoint" };
  if (result.kind === "network") return { ok: false, code: "network", detail: result.message };
  const json = parse(result.body);
  if (result.status >= 200 && result.status < 300) {
    if (!json) return { ok: false, code: "server_error", detail: `HTTP ${result.status} with a body that is not a JSON object` };
    if (typeof json.access_token !== "string" || json.access_token.length === 0) return { ok: false, code: "server_error", detail: "no access_token in the token response" };
    // The provider has already consumed the refresh token: an odd expires_in must not throw these
    // tokens away. A missing one means the default; a useless one (0, negative, not a number) a short
    // lifetime, so the next refresh comes soon but not on every request.
    const raw = json.expires_in;
    const parsed = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : undefined;
    const usable = parsed !== undefined && Number.isFinite(parsed) && parsed > 0;
    const expiresIn = raw === undefined || raw === null ? defaultLifetime : usable ? parsed : MIN_LIFETIME;
    const warning = raw !== undefined && raw !== null && !usable ? `invalid expires_in ${JSON.stringify(raw).slice(0, 40)}: assumed ${MIN_LIFETIME} s` : undefined;
    const rotated = typeof json.refresh_token === "string" && json.refresh_token.length > 0;
    return {
      ok: true,
      tokens: {
        accessToken: json.access_token,
        refreshToken: rotated ? (json.refresh_token as string) : previousRefreshToken,
        expiresAt: now + Math.floor(expiresIn),
        ...(typeof json.id_token === "string" ? { idToken: json.id_token } : {}),
        rotated,
      },
      ...(warning ? { warning } : {}),
    };
  }
  const error = typeof json?.error === "string" ? json.error : undefined;
  if (result.status === 429) {
    const retryAfter = retryAfterSeconds(result.retryAfter, now);
    return { ok: false, code: "rate_limited", detail: `HTTP 429: retry after ${retryAfter} s`, retryAfter };
  }
  if (result.status === 400 || result.status === 401) {
    if (error === "invalid_grant") return { ok: false, code: "invalid_grant", detail: "the provider refused the refresh token" };
    if (error === "invalid_client" || error === "unauthorized_client" || error === "unsupported_grant_type" || error === "invalid_scope") {
      return { ok: false, code: "client_error", detail: `the provider refused the client: ${error}` };
    }
  }
  return { ok: false, code: "server_error", detail: `HTTP ${result.status}${error ? ` ${error}` : ""}` };
}

/** The endpoints discovery gives. */
export interface ProviderEndpoints {
  tokenEndpoint: string;
  revocationEndpoint?: string;
  userinfoEndpoint?: string;
  /** OIDC RP-Initiated Logout 1.0: where to send the browser to end the provider's session. */
  endSessionEndpoint?: string;
}

/**
 * Read the provider's metadata (OpenID Connect discovery, then RFC 8414 as a fallback).
 *
 * @example
 * ```ts
 * const { tokenEndpoint, revocationEndpoint } = await discover("https://idp.example");
 * ```
 */
export async function discover(issuer: string, fetcher: typeof fetch = fetch, timeoutMs = 10_000): Promise<ProviderEndpoints> {
  const base = issuer.replace(/\/+$/, "");
  const urls = [`${base}/.well-known/openid-configuration`, `${new URL(base).origin}/.well-known/oauth-authorization-server${new URL(base).pathname.replace(/\/$/, "")}`];
  for (const url of urls) {
    const response = await fetcher(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } }).catch(() => null);
    if (!response?.ok) continue;
    const meta = parse(await response.text());
    if (typeof meta?.token_endpoint === "string") {
      return {
        tokenEndpoint: meta.token_endpoint,
        ...(typeof meta.revocation_endpoint === "string" ? { revocationEndpoint: meta.revocation_endpoint } : {}),
        ...(typeof meta.userinfo_endpoint === "string" ? { userinfoEndpoint: meta.userinfo_endpoint } : {}),
        ...(typeof meta.end_session_endpoint === "string" ? { endSessionEndpoint: meta.end_session_endpoint } : {}),
      };
    }
  }
  throw new Error(`no token_endpoint in the metadata of ${base}`);
}

/** Why a revocation was not confirmed: the stable codes of refresh failures, plus `unsupported`. */
export type RevocationOutcome =
  | { ok: true }
  /** The provider cannot revoke this kind of token (RFC 7009 `unsupported_token_type`). */
  | { ok: false; code: "unsupported"; detail: string }
  | { ok: false; code: "network" | "timeout" | "server_error" | "client_error"; detail: string };

/**
 * RFC 7009 revocation of a refresh token: the request step. Never throws: transport failures
 * come back as data, as with {@link requestRefresh}.
 *
 * @example
 * ```ts
 * const result = await requestRevocation({ revocationEndpoint, token: refreshToken, clientId, clientSecret, clientAuth: "client_secret_basic", timeoutMs: 5000 });
 * const outcome = processRevocationResponse(result);
 * ```
 */
export async function requestRevocation(req: Omit<RefreshRequest, "refreshToken" | "tokenEndpoint"> & { revocationEndpoint: string; token: string }): Promise<TokenEndpointResult> {
  const body = new URLSearchParams({ token: req.token, token_type_hint: "refresh_token" });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  authenticate(req, body, headers);
  const signal = AbortSignal.timeout(req.timeoutMs);
  try {
    const response = await (req.fetch ?? fetch)(req.revocationEndpoint, { method: "POST", headers, body, signal, redirect: "manual" });
    // Read to the end (a cancelled body can hang under Next); the error body says why it failed.
    return { kind: "response", status: response.status, body: await response.text() };
  } catch (err) {
    if (signal.aborted) return { kind: "timeout" };
    return { kind: "network", message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Turn a revocation answer into "revoked" or a typed reason. Pure. Only HTTP 200 counts as revoked
 * (RFC 7009 2.2: the provider answers 200 also for a token it no longer knows, which is revoked too).
 *
 * @example
 * ```ts
 * const outcome = processRevocationResponse({ kind: "response", status: 503, body: "" });
 * // { ok: false, code: "server_error", detail: "HTTP 503" }
 * ```
 */
export function processRevocationResponse(result: TokenEndpointResult): RevocationOutcome {
  if (result.kind === "timeout") return { ok: false, code: "timeout", detail: "no answer from the revocation endpoint" };
  if (result.kind === "network") return { ok: false, code: "network", detail: result.message };
  if (result.status === 200) return { ok: true };
  const error = parse(result.body)?.error;
  const named = typeof error === "string" ? error : undefined;
  if (named === "unsupported_token_type") return { ok: false, code: "unsupported", detail: "the provider cannot revoke refresh tokens (unsupported_token_type)" };
  if ((result.status === 400 || result.status === 401) && (named === "invalid_client" || named === "unauthorized_client")) {
    return { ok: false, code: "client_error", detail: `the provider refused the client: ${named}` };
  }
  return { ok: false, code: "server_error", detail: `HTTP ${result.status}${named ? ` ${named}` : ""}` };
}
