// Recent authentication in Next.js: `requireRecentAuth()` for server components, server actions
// and route handlers, and the step-up route that sends the user through the provider again with
// max_age / acr_values and back to where they were.
import { cookies, headers } from "next/headers";
import { invalidOption } from "../../engine/errors";
import { redirect } from "next/navigation";
import { checkRecentAuth, stepUpParams, type RecentAuthResult, type StepUpFloor, type StepUpParams, type StepUpRequirement } from "../../sessions/recent-auth";
import { sameOriginPath } from "../../sessions/return-path";

export { sameOriginPath };

/** Options of `requireRecentAuth()`. */
export interface RecentAuthOptions extends StepUpRequirement {
  /** The same-origin path to come back to after the step-up (the page the user is on). */
  returnTo: string;
  /**
   * When unmet, redirect through the provider at once (server actions, route handlers, pages)
   * instead of answering the typed result. A step-up that just came back unmet is never redirected
   * again (`step_up_failed`), so a provider that ignores the requirement cannot cause a loop.
   */
  redirect?: boolean;
}

/** The typed answer of `requireRecentAuth()`: met, or why not with the URL that steps up. */
export type RequireRecentAuthResult =
  | Extract<RecentAuthResult, { ok: true }>
  | (Extract<RecentAuthResult, { ok: false }> & { stepUpUrl: string });

/** Next's `signIn` from `NextAuth()`, as the step-up route calls it. */
export type SignInFunction = (provider: string, options: { redirectTo: string; redirect: false }, authorizationParams: Record<string, string>) => Promise<unknown>;

/**
 * `nextClaimsKit()`'s `stepUp` option: the provider to step up with, the route's path, and
 * `required`: when the user's sessions must step up before any sensitive action whatever their
 * age (the Shared Signals receiver's `stepUpRequirement`, after an `assurance-level-change`).
 */
export interface StepUpOptions {
  provider: string;
  path?: string;
  required?: (userId: string) => Promise<StepUpFloor | null>;
}

/** How the helpers reach the request's session; bound by `nextClaimsKit()`. */
export interface StepUpDeps {
  auth(): Promise<unknown>;
  /** The decoded session token with full claim names, or null. */
  token(): Promise<Readonly<Record<string, unknown>> | null>;
  sessionId(): Promise<string | undefined>;
  signIn?: SignInFunction;
  /** The provider id to step up with (`"oidc"`), the step-up route's path, and when a user's sessions must step up anyway. */
  stepUp?: StepUpOptions;
  clock?: () => number;
}

const MARKER = "kit-step-up";
/** An automatic loop iterates in seconds; a person's step-up may take minutes and still be protected by the sid. */
const MARKER_SECONDS = 120;
const DEFAULT_PATH = "/api/auth/step-up";

/** A short fingerprint of a session and a requirement: the marker never carries the session id itself. */
async function fingerprint(sid: string | undefined, params: StepUpParams): Promise<string> {
  const data = new TextEncoder().encode(`${sid ?? "-"}|${params.max_age ?? ""}|${params.acr_values ?? ""}`);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return btoa(String.fromCharCode(...digest.subarray(0, 12))).replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * `requireRecentAuth()` and the step-up route (`GET`), bound to one kit's session helpers.
 *
 * @example
 * ```ts
 * const { requireRecentAuth, stepUpRoute } = stepUpHelpers({ auth, token, sessionId, signIn, stepUp: { provider: "oidc" } });
 * ```
 */
export function stepUpHelpers(deps: StepUpDeps) {
  const path = deps.stepUp?.path ?? DEFAULT_PATH;
  const now = () => Math.floor((deps.clock ?? Date.now)() / 1000);

  /**
   * Whether the signed-in user authenticated at the provider recently enough (and with the acr
   * asked for). When not: a typed result with the step-up URL, or (with `redirect: true`) a
   * redirect there. The step-up signs in again with `max_age`/`acr_values` and returns to
   * `returnTo`.
   */
  async function requireRecentAuth(options: RecentAuthOptions): Promise<RequireRecentAuthResult> {
    const returnTo = sameOriginPath(options.returnTo);
    if (!returnTo) throw new TypeError("requireRecentAuth: returnTo must be a path on this site");
    stepUpParams(options);
    const session = await deps.auth();
    const userId = (session as { user?: { id?: unknown } } | null)?.user?.id;
    const floor = session && typeof userId === "string" && deps.stepUp?.required ? await deps.stepUp.required(userId) : null;
    const result = checkRecentAuth(session ? await deps.token() : null, options, now(), floor);
    if (result.ok) return result;
    // What the step-up asks for: the requirement's, or a fresh sign-in after an assurance change.
    const params = result.stepUp;
    const stepUpUrl = `${path}?${new URLSearchParams({ ...params, return_to: returnTo })}`;
    // A step-up for this very requirement started from another session (the one the step-up
    // replaced) and still unmet: the provider did not grant it. Say so; never loop.
    const marker = (await cookies()).get(MARKER)?.value;
    if (session && marker) {
      const [fromSession, forRequirement] = marker.split(".");
      const current = await fingerprint(await deps.sessionId(), params);
      const sameRequirement = forRequirement === (await fingerprint(undefined, params)).slice(0, 8);
      if (sameRequirement && fromSession !== current) return { ok: false, kind: "refused", code: "step_up_failed", stepUp: result.stepUp, stepUpUrl };
    }
    if (options.redirect) redirect(stepUpUrl);
    return { ...result, stepUpUrl };
  }

  /**
   * The step-up route (`app/api/auth/step-up/route.ts`: `export const { GET } = stepUpRoute`):
   * signs in through the provider with the `max_age`/`acr_values` of the query and returns to its
   * `return_to` (same-origin paths only). It remembers, for two minutes, which session asked, so
   * `requireRecentAuth()` can tell a step-up the provider did not grant from one not yet done.
   */
  const stepUpRoute = {
    async GET(request: Request): Promise<Response> {
      if (!deps.signIn || !deps.stepUp) invalidOption("nextClaimsKit", "stepUp", "({ provider }) is required to serve the step-up route");
      const query = new URL(request.url).searchParams;
      const returnTo = sameOriginPath(query.get("return_to")) ?? "/";
      const maxAge = query.get("max_age");
      const acr = query.get("acr_values")?.split(" ").filter(Boolean);
      let params: StepUpParams;
      try {
        params = stepUpParams({ ...(maxAge !== null && /^\d{1,9}$/.test(maxAge) ? { maxAge: Number(maxAge) } : {}), ...(acr?.length ? { acr } : {}) });
      } catch {
        return new Response(JSON.stringify({ error: "invalid_request", error_description: "max_age and/or acr_values are required" }), { status: 400, headers: { "content-type": "application/json", "cache-control": "no-store" } });
      }
      const marker = `${await fingerprint(await deps.sessionId(), params)}.${(await fingerprint(undefined, params)).slice(0, 8)}`;
      const secure = new URL(request.url).protocol === "https:" || (await headers()).get("x-forwarded-proto") === "https";
      (await cookies()).set(MARKER, marker, { httpOnly: true, sameSite: "lax", path: "/", maxAge: MARKER_SECONDS, secure });
      const url = await deps.signIn(deps.stepUp.provider, { redirectTo: returnTo, redirect: false }, { ...params });
      redirect(String(url));
    },
  };

  return { requireRecentAuth, stepUpRoute };
}
