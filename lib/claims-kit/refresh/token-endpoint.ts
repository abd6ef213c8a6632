import type { OAuthErrorCode, Refusal } from "../engine/errors";
import { kindOf } from "../engine/kinds";
import * as o from "oauth4webapi";
import type { TokenSet } from "../engine/ports";
import { authorizationServer, httpOptions, type ClientCredentials, type ProviderEndpoints } from "./oauth-client";

// The refresh_token grant and RFC 7009 revocation on oauth4webapi, in two steps: a request step
// that only does HTTP (transport failures come back as data) and a processing step that turns the
// answer into new tokens or a typed error without a network. The processing step is what the unit
// tests pin; oauth4webapi does the protocol (client authentication, response and id_token checks).

/** Why a refresh did not produce tokens (the stable codes of `session.errors.oauth`, engine/errors.ts), all but `revoked`. */
export type RefreshErrorCode = Exclude<OAuthErrorCode, "revoked">;

/**
 * Transient failures keep the session and its last good refresh token and are retried.
 *
 * @example
 * ```ts
 * if (!outcome.ok && TRANSIENT.has(outcome.code)) retryLater();
 * ```
 */
export const TRANSIENT: ReadonlySet<RefreshErrorCode> = new Set(["network", "timeout", "server_error", "invalid_id_token", "rate_limited"]);

/** What the request step saw. */
export type TokenEndpointResult =
  | { kind: "response"; status: number; body: string; retryAfter?: string | null; wwwAuthenticate?: string | null }
  | { kind: "network"; message: string }
  | { kind: "timeout" };

export type RefreshOutcome =
  | { ok: true; tokens: TokenSet; /** Something to warn about (an invalid expires_in was replaced). */ warning?: string }
  | {
      ok: false;
      kind: "refused" | "failed";
      code: RefreshErrorCode;
      detail: string;
      /** Seconds the provider asked to wait (Retry-After on a 429, or on a 5xx that sends one). */
      retryAfter?: number;
      /**
       * The answer rotated the refresh token but could not be used (its id_token names someone
       * else, an unknown token type): the presented token is consumed, so this is never retried.
       */
      consumed?: true;
    };

/** The shortest lifetime assumed for an access token whose expires_in is missing the point (0, negative, not a number). */
export const MIN_LIFETIME = 60;

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), capped at an hour; default 30. */
function retryAfterSeconds(header: string | null | undefined, now: number): number {
  const seconds = header && /^\d+$/.test(header.trim()) ? Number(header.trim()) : header ? Math.ceil(Date.parse(header) / 1000) - now : NaN;
  return Number.isFinite(seconds) ? Math.min(3600, Math.max(1, seconds)) : 30;
}

/** One call to the provider: where, as whom, how long to wait. */
export interface EndpointCall {
  endpoints: ProviderEndpoints;
  client: ClientCredentials;
  /** oauth4webapi's client authentication for `client` (see `clientAuthentication`). */
  authenticate: () => Promise<o.ClientAuth>;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** Whether plain http is allowed: only when the configured issuer or endpoint is http://. */
  allowHttp: boolean;
}

/** Run one oauth4webapi request; a transport failure becomes data. */
async function send(url: string, call: EndpointCall, request: (options: o.HttpRequestOptions<"POST", URLSearchParams>) => Promise<Response>): Promise<TokenEndpointResult> {
  const options = httpOptions<"POST", URLSearchParams>(call.timeoutMs, call.fetch, call.allowHttp);
  try {
    const response = await request(options);
    // Read to the end (a cancelled body can hang under Next); the error body says why it failed.
    return { kind: "response", status: response.status, body: await response.text(), retryAfter: response.headers.get("retry-after"), wwwAuthenticate: response.headers.get("www-authenticate") };
  } catch (err) {
    if (options.signal.aborted) return { kind: "timeout" };
    return { kind: "network", message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * POST grant_type=refresh_token (oauth4webapi, with the client's authentication). Never throws.
 *
 * @example
 * ```ts
 * const result = await requestRefresh(call, refreshToken);
 * const outcome = await processRefreshResponse(result, { previousRefreshToken: refreshToken, now, issuer, clientId });
 * ```
 */
export async function requestRefresh(call: EndpointCall, refreshToken: string): Promise<TokenEndpointResult> {
  const as = authorizationServer(call.endpoints);
  return send(call.endpoints.tokenEndpoint, call, async (options) => o.refreshTokenGrantRequest(as, { client_id: call.client.clientId }, await call.authenticate(), refreshToken, options));
}

function parse(body: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** What the processing step checks an answer against. */
export interface RefreshContext {
  /** Kept when the answer brings no new refresh token (providers that do not rotate). */
  previousRefreshToken: string;
  /** Seconds. */
  now: number;
  /** The issuer an id_token in the answer must name (the discovered one; the tenant's for a template issuer). */
  issuer?: string;
  /** The audience an id_token in the answer must name. */
  clientId?: string;
  /** The subject an id_token in the answer must name: the one the user signed in as. */
  expectedSub?: string;
  /** The id_token algorithms the provider announces (discovery); default RS256. */
  idTokenAlgs?: string[];
  /** The client's registered `id_token_signed_response_alg`, when it has one. */
  idTokenAlg?: string;
  /** Assumed when the answer has no expires_in. Default 3600. */
  defaultLifetime?: number;
}

/**
 * The parts of a 200 answer that a provider gets wrong but that must not cost the new tokens (the
 * refresh token is already consumed): an odd `expires_in`, a missing `token_type`.
 */
function tolerate(json: Record<string, unknown>, defaultLifetime: number): { json: Record<string, unknown>; expiresIn: number; warning?: string } {
  const raw = json.expires_in;
  const parsed = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : undefined;
  const usable = parsed !== undefined && Number.isFinite(parsed) && parsed > 0;
  const expiresIn = raw === undefined || raw === null ? defaultLifetime : usable ? parsed : MIN_LIFETIME;
  const warning = raw !== undefined && raw !== null && !usable ? `invalid expires_in ${JSON.stringify(raw).slice(0, 40)}: assumed ${MIN_LIFETIME} s` : undefined;
  const fixed: Record<string, unknown> = { ...json, token_type: typeof json.token_type === "string" && json.token_type !== "" ? json.token_type : "bearer" };
  delete fixed.expires_in;
  if (Array.isArray(fixed.scope)) fixed.scope = fixed.scope.filter((s) => typeof s === "string").join(" ");
  if (fixed.id_token === null) delete fixed.id_token;
  return { json: fixed, expiresIn: Math.floor(expiresIn), ...(warning ? { warning } : {}) };
}

/**
 * The OAuth `error` of an error answer: the body's whenever it has one (RFC 6749 5.2), else the
 * one a WWW-Authenticate challenge names (parsed by oauth4webapi). A bare `Basic` challenge, which
 * RFC 6749 requires with HTTP Basic client authentication, names none: the body says what failed.
 */
async function oauthErrorOf(result: TokenEndpointResult & { kind: "response" }, process: (response: Response) => Promise<unknown>): Promise<string | undefined> {
  const body = parse(result.body)?.error;
  if (typeof body === "string" && body !== "") return body;
  if (!result.wwwAuthenticate) return undefined;
  const headers = { "content-type": "application/json", "www-authenticate": result.wwwAuthenticate };
  const err = await process(new Response(result.body, { status: result.status, headers })).then(() => null, (e: unknown) => e);
  return err instanceof o.WWWAuthenticateChallengeError ? err.cause.find((c) => typeof c.parameters.error === "string")?.parameters.error : undefined;
}

/** OAuth errors that mean "try again later" whatever the status they come with. */
const TRANSIENT_ERRORS = new Set(["temporarily_unavailable", "server_error", "slow_down"]);
/** The provider wants the user (MFA, consent, conditional access): no retry can succeed without them. */
const USER_ERRORS = new Set(["interaction_required", "login_required", "consent_required", "account_selection_required"]);
/** The provider refuses this client as configured: a wrong secret or registration, not the grant. */
const CLIENT_ERRORS = new Set(["invalid_client", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "incorrect_client_credentials"]);

/**
 * An error answer as a stable code. The body's (or challenge's) `error` decides first; without one,
 * the status: 401 is a client authentication failure (RFC 6749 5.2), 400 a rejected request, 408,
 * 5xx and other statuses transient (a gateway's page says nothing about the grant).
 */
function classify(error: string | undefined, status: number): RefreshOutcome & { ok: false } {
  const named = error ? ` ${error}` : "";
  if (error === "invalid_grant" || error === "bad_refresh_token") return { ok: false, kind: "refused", code: "invalid_grant", detail: "the provider refused the refresh token" };
  if (error && USER_ERRORS.has(error)) return { ok: false, kind: "refused", code: "reauth_required", detail: `the provider needs the user to sign in again: ${error}` };
  const clientError = status >= 400 && status < 500 && status !== 408;
  if (clientError && error && CLIENT_ERRORS.has(error)) return { ok: false, kind: "refused", code: "client_error", detail: `the provider refused the client: ${error}` };
  if (status === 401 && !error) return { ok: false, kind: "refused", code: "client_error", detail: "the provider refused the client: HTTP 401 without an error code" };
  if (error && TRANSIENT_ERRORS.has(error)) return { ok: false, kind: "failed", code: "server_error", detail: `HTTP ${status}${named}` };
  if (clientError && (error || status === 400)) return { ok: false, kind: "refused", code: "refresh_rejected", detail: `the provider rejected the refresh request: HTTP ${status}${named}` };
  return { ok: false, kind: "failed", code: "server_error", detail: `HTTP ${status}${named}` };
}

const ID_TOKEN_CHECKS = new Set([o.JWT_CLAIM_COMPARISON, o.JWT_TIMESTAMP_CHECK, o.PARSE_ERROR, o.INVALID_RESPONSE]);

/**
 * Turn a token-endpoint result into tokens or a typed error, with oauth4webapi's response checks
 * (an id_token in the answer must have the same `iss`, `aud` and `sub` as at sign-in). No network.
 * - no new refresh token in the answer: keep the previous one (providers that do not rotate);
 * - no `expires_in`: assume `defaultLifetime` seconds; a useless one (0, negative, not a number): 60 s.
 * - an error answered with HTTP 200 (GitHub's `bad_refresh_token`) is still an error.
 *
 * @example
 * ```ts
 * const outcome = await processRefreshResponse(result, { previousRefreshToken, now: Math.floor(Date.now() / 1000) });
 * ```
 */
export async function processRefreshResponse(result: TokenEndpointResult, ctx: RefreshContext): Promise<RefreshOutcome> {
  if (result.kind === "timeout") return { ok: false, kind: "failed", code: "timeout", detail: "no answer from the token endpoint" };
  if (result.kind === "network") return { ok: false, kind: "failed", code: "network", detail: result.message };
  if (result.status === 429) {
    const retryAfter = retryAfterSeconds(result.retryAfter, ctx.now);
    return { ok: false, kind: "failed", code: "rate_limited", detail: `HTTP 429: retry after ${retryAfter} s`, retryAfter };
  }
  const json = parse(result.body);
  const success = result.status >= 200 && result.status < 300;
  if (success && !json) return { ok: false, kind: "failed", code: "server_error", detail: `HTTP ${result.status} with a body that is not a JSON object` };
  // GitHub answers refresh errors with HTTP 200 and an error body: treat it as the 400 it means.
  const status = success && json && typeof json.error === "string" && json.access_token === undefined ? 400 : result.status;
  const as: o.AuthorizationServer = { issuer: ctx.issuer ?? "urn:claims-kit:unknown-issuer", ...(ctx.idTokenAlgs ? { id_token_signing_alg_values_supported: ctx.idTokenAlgs } : {}) };
  const client: o.Client = { client_id: ctx.clientId ?? "urn:claims-kit:unknown-client", ...(ctx.idTokenAlg ? { id_token_signed_response_alg: ctx.idTokenAlg } : {}) };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (result.wwwAuthenticate) headers["www-authenticate"] = result.wwwAuthenticate;
  if (status !== 200 || !success) {
    const error = await oauthErrorOf({ ...result, status }, (response) => o.processRefreshTokenResponse(as, client, response));
    const outcome = classify(error, status);
    // Retry-After on a 503 (RFC 9110 10.2.3) is honoured like a 429's.
    if (TRANSIENT.has(outcome.code) && result.retryAfter) outcome.retryAfter = retryAfterSeconds(result.retryAfter, ctx.now);
    return outcome;
  }
  if (typeof json!.access_token !== "string" || json!.access_token.length === 0) return { ok: false, kind: "failed", code: "server_error", detail: "no access_token in the token response" };
  const tolerated = tolerate(json!, ctx.defaultLifetime ?? 3600);
  // A new refresh token in the answer means the presented one may be consumed: what happens to this
  // answer then decides whether the grant survives.
  const newRefreshToken = typeof json!.refresh_token === "string" && json!.refresh_token !== "" && json!.refresh_token !== ctx.previousRefreshToken ? json!.refresh_token : undefined;
  const refused = (code: RefreshErrorCode, detail: string, identity: boolean): RefreshOutcome => {
    // Not retried with the consumed token: an id_token about someone else ends the grant; one that
    // is only unusable (an algorithm not announced, a clock skew) leaves the new tokens usable.
    if (!newRefreshToken) return { ok: false, kind: kindOf(code), code, detail };
    if (identity) return { ok: false, kind: kindOf(code), code, detail, consumed: true };
    return { ok: true, tokens: { accessToken: json!.access_token as string, refreshToken: newRefreshToken, expiresAt: ctx.now + tolerated.expiresIn, rotated: true }, warning: `${code}: ${detail}; the rotated tokens are kept without it` };
  };
  if (typeof tolerated.json.id_token === "string" && (!ctx.issuer || !ctx.clientId)) return refused("invalid_id_token", "an id_token came back but the issuer or client id to check it against is unknown", false);
  let answer: o.TokenEndpointResponse;
  try {
    answer = await o.processRefreshTokenResponse(as, client, new Response(JSON.stringify(tolerated.json), { status: 200, headers }));
  } catch (err) {
    const detail = `the token response did not validate: ${err instanceof Error ? err.message : String(err)}`;
    const code = err instanceof o.OperationProcessingError ? err.code ?? "" : "";
    if (ID_TOKEN_CHECKS.has(code) && tolerated.json.id_token !== undefined) return refused("invalid_id_token", detail, code === o.JWT_CLAIM_COMPARISON);
    return newRefreshToken ? { ok: false, kind: "failed", code: "server_error", detail, consumed: true } : { ok: false, kind: "failed", code: "server_error", detail };
  }
  const claims = o.getValidatedIdTokenClaims(answer);
  if (claims && ctx.expectedSub !== undefined && claims.sub !== ctx.expectedSub) return refused("invalid_id_token", "the id_token names another subject than the one signed in", true);
  const rotated = typeof answer.refresh_token === "string" && answer.refresh_token.length > 0;
  return {
    ok: true,
    tokens: {
      accessToken: answer.access_token,
      refreshToken: rotated ? answer.refresh_token! : ctx.previousRefreshToken,
      expiresAt: ctx.now + tolerated.expiresIn,
      ...(typeof answer.id_token === "string" ? { idToken: answer.id_token } : {}),
      rotated,
    },
    ...(tolerated.warning ? { warning: tolerated.warning } : {}),
  };
}

/** Why a revocation was not confirmed: the stable codes of refresh failures, plus `unsupported`. */
export type RevocationOutcome =
  | { ok: true }
  /** The provider cannot revoke this kind of token (RFC 7009 `unsupported_token_type`). */
  | (Refusal<"unsupported" | "network" | "timeout" | "server_error" | "client_error"> & { detail: string });

/**
 * RFC 7009 revocation of a refresh token (oauth4webapi): the request step. Never throws.
 *
 * @example
 * ```ts
 * const outcome = await processRevocationResponse(await requestRevocation(call, refreshToken));
 * ```
 */
export async function requestRevocation(call: EndpointCall, token: string): Promise<TokenEndpointResult> {
  const as = authorizationServer(call.endpoints);
  const url = call.endpoints.revocationEndpoint!;
  return send(url, call, async (options) =>
    o.revocationRequest(as, { client_id: call.client.clientId }, await call.authenticate(), token, { ...options, additionalParameters: { token_type_hint: "refresh_token" } }),
  );
}

/**
 * Turn a revocation answer into "revoked" or a typed reason. No network. Only HTTP 200 counts as
 * revoked (RFC 7009 2.2: the provider answers 200 also for a token it no longer knows, which is revoked too).
 *
 * @example
 * ```ts
 * const outcome = await processRevocationResponse({ kind: "response", status: 503, body: "" });
 * // { ok: false, kind: "failed", code: "server_error", detail: "HTTP 503" }
 * ```
 */
export async function processRevocationResponse(result: TokenEndpointResult): Promise<RevocationOutcome> {
  if (result.kind === "timeout") return { ok: false, kind: "failed", code: "timeout", detail: "no answer from the revocation endpoint" };
  if (result.kind === "network") return { ok: false, kind: "failed", code: "network", detail: result.message };
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (result.wwwAuthenticate) headers["www-authenticate"] = result.wwwAuthenticate;
  const err = await o.processRevocationResponse(new Response(result.body, { status: result.status, headers })).then(() => null, (e: unknown) => e);
  if (!err) return { ok: true };
  const named = await oauthErrorOf(result, (response) => o.processRevocationResponse(response));
  if (named === "unsupported_token_type") return { ok: false, kind: "refused", code: "unsupported", detail: "the provider cannot revoke refresh tokens (unsupported_token_type)" };
  if (result.status >= 400 && result.status < 500 && (named === "invalid_client" || named === "unauthorized_client")) {
    return { ok: false, kind: "refused", code: "client_error", detail: `the provider refused the client: ${named}` };
  }
  return { ok: false, kind: "failed", code: "server_error", detail: `HTTP ${result.status}${named ? ` ${named}` : ""}` };
}
