// What both refresh modes share: the provider's endpoints, one refresh_token grant, and the
// timing rules (when a token is due, when a stopped refresh may be tried again).
import { kindOf } from "../engine/kinds";
import { decodeJwt } from "jose";
import type { KitLogger } from "../engine/types";
import type { BackoffPolicy } from "./backoff";
import { clientAuthentication, discover, type ClientCredentials, type ProviderEndpoints } from "./oauth-client";
import { processRefreshResponse, requestRefresh, type EndpointCall, type RefreshOutcome } from "./token-endpoint";
import type { Failure, StopCode } from "./types";

/** The settings the refresh machinery runs with (validated by `oauthRefresh()`). */
export interface RefreshSettings extends ClientCredentials {
  issuer?: string;
  tokenEndpoint?: string;
  /** The client's registered `id_token_signed_response_alg` (else the provider's announced ones, else RS256). */
  idTokenSignedResponseAlg?: string;
  skew: number;
  timeoutMs: number;
  clientErrorRetrySeconds: number;
  backoff: BackoffPolicy;
  fetch?: typeof fetch;
  log: KitLogger;
}

/** The provider as the refresh modes see it. */
export type ProviderClient = ReturnType<typeof providerClient>;

/**
 * Endpoints (discovered once, retried after a failure), the grant, and the timing rules.
 *
 * @example
 * ```ts
 * const provider = providerClient(settings);
 * const endpoint = await provider.tokenEndpointOrFailure();
 * if (typeof endpoint === "string" && provider.due(claim.e, claim.i, now)) await provider.callProvider(endpoint, refreshToken, now);
 * ```
 */
export function providerClient(settings: RefreshSettings) {
  const { clientErrorRetrySeconds, log, skew, timeoutMs } = settings;
  const options = settings;
  const authenticate = clientAuthentication(settings);

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

  /** The endpoints, or the transient failure to report (discovery is never retried under a lease). */
  async function endpointsOrFailure(): Promise<ProviderEndpoints | Failure> {
    try {
      return await resolveEndpoints();
    } catch (err) {
      return { ok: false, kind: "failed", code: "network", detail: `discovery failed: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  // After a 429, no call before the provider's Retry-After (for this client, whichever account).
  let notBefore = 0;
  let notBeforeCode: "rate_limited" | "server_error" = "rate_limited";

  /** Where and as whom to call: for the revocation step too. */
  // Plain http only for what the developer configured as http:// (a local provider).
  const allowHttp = new URL(options.issuer ?? options.tokenEndpoint ?? "https://unset.invalid").protocol === "http:";
  const call = (endpoints: ProviderEndpoints): EndpointCall => ({ endpoints, client: options, authenticate, timeoutMs, fetch: options.fetch, allowHttp });

  /**
   * One refresh_token grant at known endpoints: no discovery here (it may run under a lease). An
   * id_token in the answer must match the one from sign-in (`previousIdToken`): issuer, subject.
   */
  async function callProvider(endpoints: ProviderEndpoints, refreshToken: string, now: number, previousIdToken?: string | null): Promise<RefreshOutcome> {
    const result = await requestRefresh(call(endpoints), refreshToken);
    const previous = previousIdToken ? idTokenClaims(previousIdToken) : undefined;
    // A template issuer (Entra's multi-tenant `{tenantid}`) is checked as the tenant's own, from sign-in.
    const discovered = endpoints.issuer && !endpoints.issuer.includes("{") ? endpoints.issuer : undefined;
    const issuer = discovered ?? previous?.iss ?? options.issuer;
    const outcome = await processRefreshResponse(result, {
      previousRefreshToken: refreshToken, now, issuer, clientId: options.clientId, expectedSub: previous?.sub,
      idTokenAlgs: endpoints.idTokenSigningAlgs, idTokenAlg: options.idTokenSignedResponseAlg,
    });
    if (!outcome.ok && outcome.retryAfter) {
      notBefore = now + outcome.retryAfter;
      notBeforeCode = outcome.code === "rate_limited" ? "rate_limited" : "server_error";
    }
    if (outcome.ok && outcome.warning) log.warn(`oauth refresh: ${outcome.warning}`);
    log.info(`oauth refresh ${outcome.ok ? `ok rotated=${outcome.tokens.rotated}` : `failed ${outcome.code}: ${outcome.detail}`}`);
    return outcome;
  }

  /**
   * After a Retry-After (a 429, or a 503 that sends one) for any grant of this client, the other
   * grants wait too (a provider's rate limit or maintenance is the client's, not one grant's): the
   * failure to report meanwhile, checked before any lease is taken.
   */
  const rateLimited = (now: number): Failure | undefined =>
    now < notBefore ? { ok: false, kind: kindOf(notBeforeCode), code: notBeforeCode, detail: `the provider asked this client to wait until ${notBefore}` } : undefined;

  const effectiveSkew = (e: number, i: number | null | undefined) => (i ? Math.min(skew, Math.max(0, Math.floor((e - i) / 2))) : skew);
  const due = (e: number | null, i: number | null | undefined, now: number) => e === null || now >= e - effectiveSkew(e, i);
  /** Whether a stopped refresh may be tried again: only a client_error, once its back-off has passed. */
  const retryable = (code: string, at: number | null, now: number) => code === "client_error" && (at === null || now >= at + clientErrorRetrySeconds);
  const stopped = (code: string, at: number, detail = `refresh stopped after ${code}`): Failure => ({ ok: false, kind: kindOf(code as StopCode), code: code as StopCode, detail, stop: { c: code as StopCode, t: at } });

  return { resolveEndpoints, endpointsOrFailure, call, callProvider, rateLimited, due, retryable, stopped, backoff: settings.backoff };
}

/** `iss` and `sub` of an id_token this app already accepted (at sign-in or a refresh): no signature check needed. */
function idTokenClaims(idToken: string): { iss?: string; sub?: string } | undefined {
  try {
    const { iss, sub } = decodeJwt(idToken);
    return { ...(typeof iss === "string" ? { iss } : {}), ...(typeof sub === "string" ? { sub } : {}) };
  } catch {
    return undefined;
  }
}
