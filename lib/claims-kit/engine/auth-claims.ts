// What the kit keeps from a sign-in's id_token: when and how the user authenticated (protected
// claims on the session token), and the provider session it belongs to (back-channel logout).
import type { ProviderSession } from "./ports";

/**
 * The id_token claims the kit keeps on the session token at sign-in: when the user authenticated
 * at the provider, how (`acr`), and with which methods (`amr`). Protected: no plugin, update or
 * refresh may write them, so only a new sign-in can make them newer or stronger.
 *
 * @example
 * ```ts
 * AUTH_CLAIMS.includes("auth_time"); // true
 * ```
 */
export const AUTH_CLAIMS = ["auth_time", "acr", "amr"] as const;

/** An `acr` value (and each `amr` method): a printable token. */
export const ACR = /^[\x21-\x7e]{1,255}$/;
const MAX_AMR = 16;

/**
 * The authentication claims to keep from a sign-in's id_token claims (Auth.js's OIDC `profile`),
 * checked and bounded: `auth_time` a whole number of seconds, `acr` a printable token, `amr` a
 * short list of short strings. Anything malformed is left out rather than trusted.
 *
 * @example
 * ```ts
 * authClaimsOf({ sub: "u1", auth_time: 1700000000, acr: "mfa", amr: ["pwd", "otp"] });
 * // { auth_time: 1700000000, acr: "mfa", amr: ["pwd", "otp"] }
 * ```
 */
export function authClaimsOf(profile: Readonly<Record<string, unknown>> | null | undefined): { auth_time?: number; acr?: string; amr?: string[] } {
  const out: { auth_time?: number; acr?: string; amr?: string[] } = {};
  const time = profile?.auth_time;
  if (typeof time === "number" && Number.isSafeInteger(time) && time > 0) out.auth_time = time;
  const acr = profile?.acr;
  if (typeof acr === "string" && ACR.test(acr)) out.acr = acr;
  const amr = profile?.amr;
  if (Array.isArray(amr)) {
    const methods = amr.filter((m): m is string => typeof m === "string" && ACR.test(m) && m.length <= 64).slice(0, MAX_AMR);
    if (methods.length > 0) out.amr = methods;
  }
  return out;
}

/**
 * The provider session a sign-in belongs to (`iss`, `sub`, `sid` of the id_token), or null when
 * the profile is not an id_token's claims (a plain OAuth provider, a userinfo profile).
 *
 * @example
 * ```ts
 * providerSessionOf({ iss: "https://idp.example", sub: "u1", sid: "s-9" });
 * // { issuer: "https://idp.example", subject: "u1", sid: "s-9" }
 * ```
 */
export function providerSessionOf(profile: Readonly<Record<string, unknown>> | null | undefined): ProviderSession | null {
  const { iss, sub, sid } = profile ?? {};
  if (typeof iss !== "string" || typeof sub !== "string" || iss.length === 0 || sub.length === 0) return null;
  return { issuer: iss, subject: sub, sid: typeof sid === "string" && sid.length > 0 ? sid : null };
}

