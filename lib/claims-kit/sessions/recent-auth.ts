// Recent authentication and step-up (OIDC Core max_age / acr_values, RFC 9470): what the id_token
// said at sign-in, whether it meets a requirement now, and the authorization parameters that ask
// the provider for more. Pure: no request, no clock of its own.
import { ACR, authClaimsOf } from "../engine/auth-claims";
import type { RecentAuthCode, Result } from "../engine/errors";

/** What a requirement asks for: authentication within `maxAge` seconds and/or one of the `acr` values. */
export interface StepUpRequirement {
  /** Seconds: the user must have authenticated at the provider at most this long ago. */
  maxAge?: number;
  /** An acceptable authentication context class (or several, any one will do). */
  acr?: string | readonly string[];
}

/**
 * An authentication the provider has since called into question (a CAEP `assurance-level-change`):
 * sessions authenticated before `notBefore` (seconds) step up, asking for `acr` when given.
 */
export interface StepUpFloor {
  notBefore: number;
  acr?: readonly string[];
}

/** The authorization parameters of a step-up sign-in (strings, as the query carries them). */
export type StepUpParams = {
  max_age?: string;
  acr_values?: string;
};

/** The answer of a recent-authentication check: met (with what was recorded), or why not and how to step up. */
export type RecentAuthResult = Result<{ authTime: number; acr: string | null; amr: string[] }, RecentAuthCode, { stepUp: StepUpParams }>;

function acrList(acr: StepUpRequirement["acr"]): string[] {
  return acr === undefined ? [] : typeof acr === "string" ? [acr] : [...acr];
}

/**
 * Check a requirement, throwing `TypeError` for one that asks for nothing or is malformed (a
 * programming error: it would otherwise pass or fail silently).
 */
function assertRequirement(requirement: StepUpRequirement): void {
  const { maxAge } = requirement;
  const acrs = acrList(requirement.acr);
  if (maxAge === undefined && acrs.length === 0) throw new TypeError("requireRecentAuth: give maxAge and/or acr");
  if (maxAge !== undefined && (!Number.isSafeInteger(maxAge) || maxAge < 0)) throw new TypeError("requireRecentAuth: maxAge must be a whole number of seconds (0 or more)");
  for (const value of acrs) if (!ACR.test(value)) throw new TypeError(`requireRecentAuth: acr ${JSON.stringify(value)} is not a printable token`);
}

/**
 * The authorization parameters that ask the provider for a requirement: `max_age` (OIDC Core: it
 * must re-authenticate the user when its session is older, and return `auth_time`) and
 * `acr_values` (space-separated, in order of preference).
 *
 * @example
 * ```ts
 * stepUpParams({ maxAge: 300, acr: "mfa" }); // { max_age: "300", acr_values: "mfa" }
 * ```
 */
export function stepUpParams(requirement: StepUpRequirement): StepUpParams {
  assertRequirement(requirement);
  const acrs = acrList(requirement.acr);
  return {
    ...(requirement.maxAge !== undefined ? { max_age: String(requirement.maxAge) } : {}),
    ...(acrs.length > 0 ? { acr_values: acrs.join(" ") } : {}),
  };
}

/**
 * Whether a session token meets a requirement at `now` (seconds). Reads only what the kit kept
 * from the id_token at sign-in: a token without `auth_time` is never recent (the provider did not
 * say when the user authenticated; a step-up with `max_age` makes it say). With a `floor`, a
 * token authenticated before it is `step_up_required` (a fresh sign-in: `max_age=0`).
 *
 * @example
 * ```ts
 * const r = checkRecentAuth(token, { maxAge: 300 }, Math.floor(Date.now() / 1000));
 * if (!r.ok) redirectToStepUp(r.stepUp); // { max_age: "300" }
 * ```
 */
export function checkRecentAuth(token: Readonly<Record<string, unknown>> | null | undefined, requirement: StepUpRequirement, now: number, floor?: StepUpFloor | null): RecentAuthResult {
  const stepUp = stepUpParams(requirement);
  if (!token || typeof token.sub !== "string") return { ok: false, kind: "refused", code: "not_signed_in", stepUp };
  const { auth_time: authTime, acr, amr } = authClaimsOf(token);
  // The provider reported a change of assurance after this authentication: a new one, now.
  if (floor && (authTime === undefined || authTime < floor.notBefore)) {
    return { ok: false, kind: "refused", code: "step_up_required", stepUp: stepUpParams({ maxAge: 0, acr: floor.acr && floor.acr.length > 0 ? floor.acr : requirement.acr }) };
  }
  const acrs = acrList(requirement.acr);
  if (acrs.length > 0 && (acr === undefined || !acrs.includes(acr))) return { ok: false, kind: "refused", code: "acr_not_met", stepUp };
  if (requirement.maxAge !== undefined) {
    if (authTime === undefined) return { ok: false, kind: "refused", code: "auth_time_unknown", stepUp };
    if (now - authTime > requirement.maxAge) return { ok: false, kind: "refused", code: "auth_too_old", stepUp };
  }
  // With only an acr asked for, a token without auth_time still passes: the acr is what was asked.
  return { ok: true, authTime: authTime ?? 0, acr: acr ?? null, amr: amr ?? [] };
}

/**
 * Read an RFC 9470 step-up challenge from a resource server's `WWW-Authenticate` header: a
 * `Bearer` challenge with `error="insufficient_user_authentication"` becomes the requirement it
 * names (`max_age`, `acr_values`), ready for the same step-up as {@link checkRecentAuth}'s. Any
 * other header gives null.
 *
 * @example
 * ```ts
 * stepUpFromChallenge('Bearer error="insufficient_user_authentication", acr_values="mfa", max_age="60"');
 * // { maxAge: 60, acr: ["mfa"] }
 * ```
 */
export function stepUpFromChallenge(header: string | null | undefined): StepUpRequirement | null {
  if (!header) return null;
  const start = /(?:^|,)\s*Bearer\s+/i.exec(header);
  if (!start) return null;
  // The Bearer challenge's auth-params, `name=token` or `name="quoted"`, up to the next scheme.
  const params = new Map<string, string>();
  const param = /\s*([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(?:,|$)/y;
  param.lastIndex = start.index + start[0].length;
  for (let m = param.exec(header); m; m = param.exec(header)) {
    params.set(m[1]!.toLowerCase(), (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1"));
  }
  if (params.get("error") !== "insufficient_user_authentication") return null;
  const requirement: StepUpRequirement = {};
  const maxAge = params.get("max_age");
  if (maxAge !== undefined && /^\d{1,9}$/.test(maxAge)) requirement.maxAge = Number(maxAge);
  const acrs = (params.get("acr_values") ?? "").split(" ").filter((v) => ACR.test(v));
  if (acrs.length > 0) requirement.acr = acrs;
  // A challenge naming neither still says the authentication was not enough: ask for a fresh one.
  if (requirement.maxAge === undefined && requirement.acr === undefined) requirement.maxAge = 0;
  return requirement;
}

export type { RecentAuthCode };
