// Cookie mode: the tokens ride in the encrypted session token; no database, no cross-process
// coordination. Requests still carrying a just-rotated refresh token get the new result (grace).
// After a failed attempt the back-off rides in the claim (`b`), and this process remembers it for
// requests that still carry the cookie from before the failure.
import { kindOf } from "../engine/kinds";
import { backingOff, backoffDetail, nextBackoff, type BackoffState } from "./backoff";
import type { ProviderClient } from "./provider";
import { singleFlight } from "./single-flight";
import { TRANSIENT, type RefreshErrorCode, type RefreshOutcome } from "./token-endpoint";
import type { CookieClaim, Failure, Served, StopCode } from "./types";

/** A short, stable digest of a refresh token: a map key that is not the token itself. */
async function digest(value: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return Array.from(bytes.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The later of two back-offs of one refresh token (the claim's, and this process's memory). */
const later = (a: BackoffState | undefined, b: BackoffState | undefined) => (!a ? b : !b ? a : b.n > a.n || (b.n === a.n && b.r > a.r) ? b : a);

/** What a cookie refresh gives the plugin: the claim to write (with a reason when the refresh failed but the token is served), or why not. */
export type CookieResult = { ok: true; claim: CookieClaim; served?: Served } | (Failure & { claim?: CookieClaim });

/**
 * The cookie-mode refresher: `refreshCookie(claim, now)` returns the new claim, or why not.
 *
 * @example
 * ```ts
 * const refresher = cookieRefresher({ provider, graceSeconds: 30, keepIdToken: false });
 * const result = await refresher.refreshCookie(token.oauth, now);
 * ```
 */
export function cookieRefresher(deps: { provider: ProviderClient; graceSeconds: number; keepIdToken: boolean; clock: () => number }) {
  const { graceSeconds, clock } = deps;
  const options = { keepIdToken: deps.keepIdToken };
  const { retryable, stopped, endpointsOrFailure, callProvider, rateLimited, backoff: policy } = deps.provider;
  const cookieFlight = singleFlight<{ outcome: RefreshOutcome; backoff?: BackoffState }>();
  const grace = new Map<string, { claim: CookieClaim; until: number }>();
  /** Refresh tokens the provider refused (by digest) and when: not sent again from this process (client_error: until its back-off passed). */
  const refused = new Map<string, { code: StopCode; at: number }>();
  /** Back-offs by refresh-token digest: requests still carrying the cookie from before a failure wait too. */
  const backoffs = new Map<string, BackoffState>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    if (map.size > 10_000) map.clear();
    map.set(key, value);
  };

  /** A failure without a provider call: the claim keeps its access token while it lasts. */
  function failed(c: CookieClaim, failure: Failure, now: number, b?: BackoffState): CookieResult {
    // The same back-off as the claim already carries: the claim itself (no cookie rewrite).
    const claim = b && (c.b?.n !== b.n || c.b.r !== b.r || c.b.c !== b.c) ? { ...c, b } : c;
    if (c.e > now) return { ok: true, claim, served: { code: failure.code as RefreshErrorCode, detail: failure.detail } };
    return { ...failure, claim };
  }

  async function refreshCookie(c: CookieClaim, now: number): Promise<CookieResult> {
    if (!c.rt) return stopped("reauth_required", now, "the access token expired and the provider gave no refresh token");
    const key = await digest(c.rt);
    const served = grace.get(key);
    if (served && served.until >= clock()) return { ok: true, claim: served.claim };
    const known = refused.get(key);
    if (known) {
      if (!retryable(known.code, known.at, now)) return stopped(known.code, known.at);
      refused.delete(key);
    }
    const previous = later(c.b, backoffs.get(key));
    if (previous && backingOff(previous, now)) return failed(c, { ok: false, kind: kindOf(previous.c), code: previous.c, detail: backoffDetail(previous) }, now, previous);
    const limited = rateLimited(now);
    if (limited) return failed(c, limited, now, previous);
    const endpoints = await endpointsOrFailure();
    if ("ok" in endpoints) return failed(c, endpoints, now, previous);
    // One call for every request of this refresh token; the back-off is computed once, in the flight.
    const { outcome, backoff } = await cookieFlight(key, async () => {
      const result = await callProvider(endpoints, c.rt!, now, c.it);
      if (result.ok || result.consumed || !(TRANSIENT.has(result.code) || result.code === "refresh_rejected")) return { outcome: result };
      if (result.code === "refresh_rejected" && previous?.c === "refresh_rejected") return { outcome: result };
      const next = nextBackoff(previous, result.code, now, result.retryAfter, policy);
      remember(backoffs, key, next);
      return { outcome: result, backoff: next };
    });
    if (!outcome.ok) {
      if (backoff) return failed(c, { ok: false, kind: kindOf(outcome.code), code: outcome.code, detail: outcome.detail }, now, backoff);
      // A consumed refresh token is never presented again: the user signs in again. A rejection
      // right after a rejection (the confirming attempt) means the refresh token is dead.
      const code: StopCode = outcome.consumed ? "reauth_required" : outcome.code === "refresh_rejected" ? "invalid_grant" : (outcome.code as StopCode);
      backoffs.delete(key);
      remember(refused, key, { code, at: now });
      return stopped(code, now, outcome.detail);
    }
    backoffs.delete(key);
    const next: CookieClaim = {
      at: outcome.tokens.accessToken,
      rt: outcome.tokens.refreshToken,
      e: outcome.tokens.expiresAt,
      i: now,
      ...(options.keepIdToken && (outcome.tokens.idToken ?? c.it) ? { it: outcome.tokens.idToken ?? c.it } : {}),
    };
    // Requests that still carry the previous refresh token (other tabs, parallel fetches) get this result.
    for (const [k, v] of grace) if (v.until < clock()) grace.delete(k);
    grace.set(key, { claim: next, until: clock() + graceSeconds * 1000 });
    return { ok: true, claim: next };
  }

  return { refreshCookie };
}
