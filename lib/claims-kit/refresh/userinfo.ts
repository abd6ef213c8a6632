// Sign-in profiles from thin id_tokens (issue #23, item 4). Auth.js builds an OIDC profile from the
// id_token alone; in the code flow OIDC Core 5.4 returns the claims requested by scope from the
// userinfo endpoint, and some providers put them only there (LemonLDAP::NG by default, Okta's org
// authorization server when it also issues an access token). `withUserinfo()` wraps a provider's
// `profile()` so that, at sign-in, missing claims are fetched from userinfo with the new access
// token and merged: a request step (discovery, userinfo, timeout) and a pure merge step.
import * as o from "oauth4webapi";
import { ClaimsKitError, type SignInErrorCode } from "../engine/errors";
import { httpOptions } from "./oauth-client";
import { PROVIDER_PROFILES } from "./profiles";

/**
 * The claims an app relies on at sign-in: when the id_token lacks any, userinfo is asked.
 *
 * @example
 * ```ts
 * withUserinfo(provider, { claims: [...USERINFO_CLAIMS, "preferred_username"] });
 * ```
 */
export const USERINFO_CLAIMS: readonly string[] = ["email", "email_verified", "name"];

/**
 * What `withUserinfo()` reads and wraps of an Auth.js OIDC provider config.
 *
 * @example
 * ```ts
 * const provider: UserinfoProvider = { id: "oidc", type: "oidc", issuer: "https://idp.example", clientId: "app" };
 * ```
 */
export interface UserinfoProvider {
  id: string;
  type?: string;
  issuer?: string;
  clientId?: string;
  /** `false`: Auth.js already takes the whole profile from userinfo. */
  idToken?: boolean;
  profile?: (claims: Record<string, unknown>, tokens: { access_token?: string } & Record<string, unknown>) => unknown;
  options?: object;
}

/**
 * Options of {@link withUserinfo}.
 *
 * @example
 * ```ts
 * const options: WithUserinfoOptions = { claims: ["email", "email_verified", "name"], timeoutMs: 5000 };
 * ```
 */
export interface WithUserinfoOptions {
  /** Ask userinfo when the id_token lacks any of these. Default `USERINFO_CLAIMS`. */
  claims?: readonly string[];
  /**
   * Default: the provider profile's `thinIdToken` (Okta), on for any OIDC provider the kit has no
   * profile for (the generic one), off for those whose id_tokens carry the claims (Google, Entra…).
   */
  enabled?: boolean;
  /** Discovery and userinfo, each. Default 5000 ms. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Auth.js's own profile for an OIDC provider without one: id, name, email, image. */
function defaultProfile(claims: Record<string, unknown>) {
  const user = { id: claims.sub ?? claims.id ?? crypto.randomUUID(), name: claims.name ?? claims.nickname ?? claims.preferred_username, email: claims.email, image: claims.picture };
  return Object.fromEntries(Object.entries(user).filter(([, value]) => value !== undefined));
}

const missing = (claims: Record<string, unknown>, wanted: readonly string[]) => wanted.filter((name) => claims[name] === undefined || claims[name] === null);

/**
 * Merge userinfo into the id_token's claims, in place (Auth.js hands this same object to
 * `profile()`, the `signIn` callback and `jwt()`, so all three see the merged claims). The
 * id_token's values win where present; `sub` is never taken. `email_verified` describes an
 * address: it comes from userinfo only together with userinfo's `email` (when the id_token had
 * none), or when userinfo's `email` is the id_token's; an email taken from userinfo without a
 * verification claim stays unverified. Returns the names merged. No network.
 *
 * @example
 * ```ts
 * const claims = { sub: "u1" };
 * mergeUserinfo(claims, { sub: "u1", email: "a@example.com", email_verified: true, name: "A" }); // ["email", "email_verified", "name"]
 * ```
 */
export function mergeUserinfo(claims: Record<string, unknown>, userinfo: Record<string, unknown>): string[] {
  const merged: string[] = [];
  const emailFromUserinfo = (claims.email === undefined || claims.email === null) && typeof userinfo.email === "string";
  const sameEmail = typeof claims.email === "string" && claims.email === userinfo.email;
  for (const [name, value] of Object.entries(userinfo)) {
    if (name === "sub" || name === "email_verified" || value === undefined || value === null) continue;
    if (claims[name] !== undefined && claims[name] !== null) continue;
    claims[name] = value;
    merged.push(name);
  }
  if (emailFromUserinfo) {
    // A verification claim the id_token carried without an address described no address: replaced.
    if (userinfo.email_verified !== undefined) claims.email_verified = userinfo.email_verified;
    else delete claims.email_verified;
    if (userinfo.email_verified !== undefined) merged.push("email_verified");
  } else if (sameEmail && (claims.email_verified === undefined || claims.email_verified === null) && userinfo.email_verified !== undefined) {
    claims.email_verified = userinfo.email_verified;
    merged.push("email_verified");
  }
  return merged;
}

/** Why a sign-in's userinfo request failed (thrown from `profile()`: Auth.js then refuses the sign-in). */
function failure(code: SignInErrorCode, detail: string): ClaimsKitError {
  return new ClaimsKitError(code, `withUserinfo: ${detail}`);
}

/**
 * Wrap an Auth.js OIDC provider so that, at sign-in, when the id_token lacks claims the app relies
 * on (`email`, `email_verified`, `name` by default), its `profile()` first fetches the provider's
 * userinfo (its discovered `userinfo_endpoint`, with the sign-in's new access token, within
 * `timeoutMs`), requires userinfo's `sub` to equal the id_token's (OIDC Core 5.3.2), and merges
 * what the id_token lacks (see {@link mergeUserinfo}). On for the generic OIDC provider and for
 * providers whose profile says `thinIdToken` (Okta); `enabled` overrides. A userinfo request that
 * fails (network, timeout, an error answer, another `sub`) throws from `profile()` (codes
 * `userinfo_failed`, `userinfo_sub_mismatch`): Auth.js then refuses the sign-in and logs it, so no
 * user is created without the claims and nothing is linked by an address nobody verified. Returns
 * a new provider object; the one given is left as it is.
 *
 * @example
 * ```ts
 * const oidc = withUserinfo({ id: "oidc", name: "LemonLDAP", type: "oidc", issuer, clientId, clientSecret });
 * NextAuth({ providers: [oidc] });
 * oauthRefresh({ provider: oidc, vault }); // the same object for the refresh
 * ```
 */
export function withUserinfo<P extends UserinfoProvider>(provider: P, options: WithUserinfoOptions = {}): P {
  const merged = { ...provider, ...(provider.options ?? {}) } as UserinfoProvider;
  const profileOf = PROVIDER_PROFILES[merged.id];
  const enabled = options.enabled ?? (profileOf ? profileOf.thinIdToken === true : (merged.type ?? "oidc") === "oidc");
  if (!enabled || merged.idToken === false) return provider;
  const wanted = options.claims ?? USERINFO_CLAIMS;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const inner = merged.profile ?? defaultProfile;
  let metadata: Promise<o.AuthorizationServer> | undefined;

  /** The provider's metadata, discovered once (again after a failure). */
  function discovered(): Promise<o.AuthorizationServer> {
    const issuer = new URL(merged.issuer ?? "");
    metadata ??= o
      .discoveryRequest(issuer, httpOptions<"GET">(timeoutMs, options.fetch, issuer.protocol === "http:"))
      .then((response) => o.processDiscoveryResponse(issuer, response))
      .catch((err: unknown) => {
        metadata = undefined;
        throw err;
      });
    return metadata;
  }

  const profile = async (claims: Record<string, unknown>, tokens: { access_token?: string } & Record<string, unknown>) => {
    if (missing(claims, wanted).length > 0) {
      if (typeof claims.sub !== "string" || typeof tokens.access_token !== "string") throw failure("userinfo_failed", "no subject or access token to ask userinfo with");
      let userinfo: Record<string, unknown>;
      try {
        const as = await discovered();
        if (!as.userinfo_endpoint) throw new Error("the provider's metadata lists no userinfo_endpoint");
        const http = httpOptions<"GET">(timeoutMs, options.fetch, new URL(as.userinfo_endpoint).protocol === "http:" && new URL(merged.issuer ?? "").protocol === "http:");
        const client = { client_id: merged.clientId ?? "" };
        const response = await o.userInfoRequest(as, client, tokens.access_token, http);
        userinfo = await o.processUserInfoResponse(as, client, claims.sub, response);
      } catch (err) {
        if (err instanceof o.OperationProcessingError && err.code === o.JSON_ATTRIBUTE_COMPARISON) {
          throw failure("userinfo_sub_mismatch", "userinfo names another subject than the id_token (OIDC Core 5.3.2): not used");
        }
        throw failure("userinfo_failed", `userinfo request failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      mergeUserinfo(claims, userinfo);
    }
    return inner(claims, tokens);
  };
  // Auth.js merges `options` over the provider's defaults: the wrapped profile goes in both.
  return { ...provider, profile, ...(provider.options ? { options: { ...provider.options, profile } } : {}) } as P;
}
