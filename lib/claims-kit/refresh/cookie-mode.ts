// Cookie mode: the tokens ride in the encrypted session token; no database, no cross-process
// coordination. Requests still carrying a just-rotated refresh token get the new result (grace).
import type { ProviderClient } from "./provider";
import { singleFlight } from "./single-flight";
import { TRANSIENT, type RefreshOutcome } from "./token-endpoint";
import type { CookieClaim, Failure, StopCode } from "./types";

/** A short, stable digest of a refresh token: a map key that is not the token itself. */
async function digest(value: string): Promise<string> {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
  return Array.from(bytes.subarray(0, 12), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The cookie-mode refresher: `refreshCookie(claim, now)` returns the new claim, or why not.
 *
 * @example
 * ```ts
 * const refresher = cookieRefresher({ provider, graceSeconds: 30, keepIdToken: false });
 * const result = await refresher.refreshCookie(token.oauth, now);
 * ```
 */
export function cookieRefresher(deps: { provider: ProviderClient; graceSeconds: number; keepIdToken: boolean }) {
  const { graceSeconds } = deps;
  const options = { keepIdToken: deps.keepIdToken };
  const { retryable, stopped, endpointsOrFailure, callProvider } = deps.provider;
  const cookieFlight = singleFlight<RefreshOutcome>();
  const grace = new Map<string, { claim: CookieClaim; until: number }>();
  /** Refresh tokens the provider refused (by digest) and when: not sent again from this process (client_error: until its back-off passed). */
  const refused = new Map<string, { code: StopCode; at: number }>();

  async function refreshCookie(c: CookieClaim, now: number): Promise<{ ok: true; claim: CookieClaim } | Failure> {
    if (!c.rt) return stopped("reauth_required", now, "the access token expired and the provider gave no refresh token");
    const key = await digest(c.rt);
    const served = grace.get(key);
    if (served && served.until >= Date.now()) return { ok: true, claim: served.claim };
    const known = refused.get(key);
    if (known) {
      if (!retryable(known.code, known.at, now)) return stopped(known.code, known.at);
      refused.delete(key);
    }
    const endpoints = await endpointsOrFailure();
    if ("ok" in endpoints) return endpoints;
    const outcome = await cookieFlight(key, () => callProvider(endpoints, c.rt!, now, c.it));
    if (!outcome.ok) {
      // refresh_rejected: retried for now; the back-off (next change) makes it terminal once confirmed.
      if ((TRANSIENT.has(outcome.code) || outcome.code === "refresh_rejected") && !outcome.consumed) return { ok: false, code: outcome.code, detail: outcome.detail };
      // A consumed refresh token is never presented again: the user signs in again.
      const code = outcome.consumed ? "reauth_required" : outcome.code;
      if (refused.size > 10_000) refused.clear();
      refused.set(key, { code: code as StopCode, at: now });
      return stopped(code, now, outcome.detail);
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

  return { refreshCookie };
}
