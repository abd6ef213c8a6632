/**
 * claims-kit/next/server: one call that turns a kit and an Auth.js config into everything a Next.js
 * app needs: the guarded route handlers, `auth()`, the server helpers, the step-up, back-channel
 * and Shared Signals routes, and the proxy. Server only.
 *
 * @packageDocumentation
 * @module claims-kit/next/server
 */
import "server-only";
import NextAuth, { type NextAuthConfig, type NextAuthResult } from "next-auth";
import { internalsOf, type ClaimsKit } from "../engine/kit";
import type { AnyPlugin, TokenView } from "../engine/types";
import type { SessionCookieOptions } from "./internal/cookie";
import { guardedHandlers } from "./internal/handlers";
import { nextRequestInfo, serverHelpers, type NextHelpers } from "./internal/helpers";
import { refreshingProxy } from "./internal/proxy";
import { optionalRoute } from "./internal/routes";
import type { SignInFunction, StepUpOptions } from "./internal/step-up";
import type { NextRequest, NextResponse } from "next/server";

export type { CookieInspection, NextHelpers } from "./internal/helpers";
export type { CookieHeaderReport } from "./internal/cookie-header";
export { SIGNED_OUT_VERSION, sessionVersion, type VersionedSession } from "./internal/session-version";
export type { RecentAuthOptions, RequireRecentAuthResult, StepUpOptions } from "./internal/step-up";

/** Options of {@link nextClaimsKit}. Everything the kit cannot take from the Auth.js config. */
export interface NextClaimsKitOptions {
  /**
   * The plugin whose tokens the proxy refreshes before a server render when due (usually your
   * `oauthRefresh()`): server components then never run a refresh they cannot save. Without it the
   * proxy passes every request through.
   */
  refresh?: { isDue(token: TokenView): boolean };
  /**
   * Step-up through the provider (`requireRecentAuth`): its id, the step-up route's path (default
   * `/api/auth/step-up`), and `required` (the Shared Signals receiver's `stepUpRequirement`).
   */
  stepUp?: StepUpOptions;
  /** The OIDC back-channel logout endpoint (`backchannelLogout()` from `claims-kit/oidc`), served as `backchannelRoute`. */
  backchannel?: { POST(request: Request): Promise<Response> };
  /** The Shared Signals push endpoint (`sharedSignals()` from `claims-kit/oidc`), served as `ssfRoute`. */
  ssf?: { POST(request: Request): Promise<Response> };
  /**
   * Providers a signed-in user may link to their account: their sign-in callback sees the session
   * cookie (only while the registry holds that session active). Every other callback sees none.
   */
  link?: { providers: readonly string[] };
  /**
   * The app's `AUTH_URL` when it sets one (Auth.js then builds its URLs, and picks the session
   * cookie's name, from it). The kit reads no environment variable: pass it in.
   */
  authUrl?: string;
  /** Limit for the whole `Cookie` header (default 8192, the common proxy limit): `inspectCookie()` reports against it. */
  cookieHeaderLimit?: number;
  /** Development diagnostics: `auth()` warns once when a request's `Cookie` header exceeds the limit. Default false. */
  development?: boolean;
}

/** What {@link nextClaimsKit} returns. */
export interface NextClaimsKit<K> extends NextHelpers<K> {
  /** `export const { GET, POST } = handlers` in `app/api/auth/[...nextauth]/route.ts`. */
  handlers: { GET(request: NextRequest): Promise<Response>; POST(request: NextRequest): Promise<Response> };
  /** Auth.js's own, from `NextAuth()`. */
  signIn: NextAuthResult["signIn"];
  /** Auth.js's own, from `NextAuth()` (the kit's `events.signOut` ends the session in the registry). */
  signOut: NextAuthResult["signOut"];
  /** `export const { POST } = backchannelRoute` in the back-channel logout route (with `options.backchannel`). */
  backchannelRoute: { POST(request: Request): Promise<Response> };
  /** `export const { POST } = ssfRoute` in the Shared Signals push route (with `options.ssf`; 404 without). */
  ssfRoute: { POST(request: Request): Promise<Response> };
  /** `export { proxy } from "./auth"` in `proxy.ts`: refreshes a due session before a server render. */
  proxy(request: NextRequest): Promise<NextResponse>;
}

/**
 * Everything a Next.js app needs from one kit and its Auth.js config, in one call: it calls
 * `NextAuth(config)` itself and binds every helper to it. The config's `secret`, `jwt.decode`,
 * `cookies.sessionToken.name` and `useSecureCookies` are the helpers' (one place, not three); the
 * kit gets the sign-in request's details (`requestInfo`) from Next's request unless its options
 * set them. Session reads (`auth()`, `GET /api/auth/session`) run Auth.js's own session action
 * without the CSRF token it mints for every action; `update()`, sign-in and sign-out keep it.
 *
 * @example
 * ```ts
 * // auth.ts
 * export const { handlers, auth, signIn, signOut, updateSession, getAccessToken, proxy } =
 *   nextClaimsKit(kit, { ...authConfig, secret: env.AUTH_SECRET }, { refresh: oauth });
 * // app/api/auth/[...nextauth]/route.ts
 * export const { GET, POST } = handlers;
 * // proxy.ts
 * export { proxy } from "./auth";
 * ```
 */
export function nextClaimsKit<P extends readonly AnyPlugin[]>(kit: ClaimsKit<P>, config: NextAuthConfig, options: NextClaimsKitOptions = {}): NextClaimsKit<ClaimsKit<P>> {
  const internals = internalsOf(kit);
  // Auth.js's own choice: the database strategy when an adapter is configured, unless set.
  const strategy = config.session?.strategy ?? (config.adapter ? "database" : "jwt");
  // Under the database strategy the kit learns of each Session row the adapter creates.
  if (strategy === "database" && config.adapter) config.adapter = kit.adapter(config.adapter);
  // NextAuth() fills in the secret and base path from the environment on this very object (at
  // module load on `next start`, not at `next build`): read them per request, never captured here.
  const nextAuth = NextAuth(config);
  const cookie = (): SessionCookieOptions => ({
    secret: config.secret,
    decode: config.jwt?.decode as SessionCookieOptions["decode"],
    cookieName: config.cookies?.sessionToken?.name,
    useSecureCookies: config.useSecureCookies,
    authUrl: options.authUrl,
  });
  internals.supplyRequestInfo(nextRequestInfo(cookie, strategy));
  const helpers = serverHelpers(kit, {
    config,
    update: nextAuth.unstable_update as (data: never) => Promise<unknown>,
    signIn: nextAuth.signIn as unknown as SignInFunction,
    cookie,
    authUrl: options.authUrl,
    stepUp: options.stepUp,
    cookieHeaderLimit: options.cookieHeaderLimit,
    development: options.development,
    strategy,
  });
  const handlers = guardedHandlers(nextAuth.handlers, {
    config,
    authUrl: options.authUrl,
    link: options.link ? { providers: options.link.providers, sessionActive: helpers.sessionActive } : undefined,
  });
  const refresh = options.refresh;
  return {
    ...helpers,
    handlers,
    signIn: nextAuth.signIn,
    signOut: nextAuth.signOut,
    // Without a receiver the route does not exist for the provider either (404).
    backchannelRoute: optionalRoute(options.backchannel),
    ssfRoute: optionalRoute(options.ssf),
    proxy: refreshingProxy({ kit, handler: nextAuth.handlers.GET, isDue: (token) => refresh?.isDue(token) ?? false, cookie }),
  };
}
