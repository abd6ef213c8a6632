// What both refresh modes share: the provider's endpoints, one refresh_token grant, and the
// timing rules (when a token is due, when a stopped refresh may be tried again).
import type { KitLogger } from "../core/types";
import { discover, processRefreshResponse, requestRefresh, type ClientAuth, type ProviderEndpoints, type RefreshOutcome } from "./token-endpoint";
import type { Failure, StopCode } from "./types";

/** The settings the refresh machinery runs with (validated by `oauthRefresh()`). */
export interface RefreshSettings {
  issuer?: string;
  tokenEndpoint?: string;
  clientId: string;
  clientSecret?: string;
  clientAuth: ClientAuth;
  skew: number;
  timeoutMs: number;
  clientErrorRetrySeconds: number;
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
  const { clientAuth, clientErrorRetrySeconds, log, skew, timeoutMs } = settings;
  const options = settings;

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

  // After a 429, no call before the provider's Retry-After (for this client, whichever account).
  let notBefore = 0;

  /** One refresh_token grant at a known endpoint: no discovery here (it may run under a lease). */
  async function callProvider(tokenEndpoint: string, refreshToken: string, now: number): Promise<RefreshOutcome> {
    if (now < notBefore) return { ok: false, code: "rate_limited", detail: `the provider asked to wait until ${notBefore}`, retryAfter: notBefore - now };
    const result = await requestRefresh({ tokenEndpoint, clientId: options.clientId, clientSecret: options.clientSecret, clientAuth, refreshToken, timeoutMs, fetch: options.fetch });
    const outcome = processRefreshResponse(result, refreshToken, now);
    if (!outcome.ok && outcome.retryAfter) notBefore = now + outcome.retryAfter;
    if (outcome.ok && outcome.warning) log.warn(`oauth refresh: ${outcome.warning}`);
    log.info(`oauth refresh ${outcome.ok ? `ok rotated=${outcome.tokens.rotated}` : `failed ${outcome.code}: ${outcome.detail}`}`);
    return outcome;
  }

  const effectiveSkew = (e: number, i: number | null | undefined) => (i ? Math.min(skew, Math.max(0, Math.floor((e - i) / 2))) : skew);
  const due = (e: number | null, i: number | null | undefined, now: number) => e === null || now >= e - effectiveSkew(e, i);
  /** Whether a stopped refresh may be tried again: only a client_error, once its back-off has passed. */
  const retryable = (code: string, at: number | null, now: number) => code === "client_error" && (at === null || now >= at + clientErrorRetrySeconds);
  const stopped = (code: string, at: number, detail = `refresh stopped after ${code}`): Failure => ({ ok: false, code: code as StopCode, detail, stop: { c: code as StopCode, t: at } });

  return { resolveEndpoints, tokenEndpointOrFailure, callProvider, due, retryable, stopped };
}
