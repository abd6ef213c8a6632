import "server-only";
import { cache } from "react";
import { cookies, headers } from "next/headers";
import type { JWT } from "next-auth/jwt";
import { internalsOf, type ClaimsKit, type PatchOfKit, type ServerDataOf, type SessionOf, type TokenOf } from "../engine/kit";
import type { AccessTokenInfo, AccessTokenSource } from "../engine/ports";
import { expireRemoved, guardAuthRequest, linkSessionCookie, type AuthRequestGuardOptions } from "./internal/route-guard";
import { measureToken, type TokenMeasure } from "../cookie/measure";
import { META_CLAIM, readMeta } from "../engine/meta";
import type { AnyPlugin, KitSession, RequestInfo } from "../engine/types";
import { isSessionCookieName } from "../cookie/session-cookie";
import { readSessionToken, sessionCookieOf, type SessionCookieOptions } from "./internal/cookie";
import { measureCookieHeader, warnCookieHeaderOnce, type CookieHeaderReport } from "./internal/cookie-header";
import { isSessionRead, readServerSession, readSessionResponse, type SessionReadConfig } from "./internal/session-reads";
import { stepUpHelpers, type RecentAuthOptions, type RequireRecentAuthResult, type SignInFunction } from "./internal/step-up";

export { DEFAULT_COOKIE_HEADER_LIMIT, cookieHeaderWarning, measureCookieHeader, warnCookieHeaderOnce, type CookieHeaderReport } from "./internal/cookie-header";
export { SIGNED_OUT_VERSION, sessionVersion, type VersionedSession } from "./internal/session-version";
export { isSessionRead, readServerSession, readSessionResponse, type SessionReadConfig } from "./internal/session-reads";
export { sameOriginPath, type RecentAuthOptions, type RequireRecentAuthResult, type SignInFunction } from "./internal/step-up";

/** What `inspectCookie()` reports. */
export interface CookieInspection {
  measure: TokenMeasure;
  /** Claims in the cookie, largest first: full name, the key the cookie uses, bytes. */
  claims: Array<{ name: string; key: string; bytes: number }>;
  /** The kit's own bookkeeping's share. */
  bookkeepingBytes: number;
  /** The `Cookie` header bytes of the session cookie(s) this request carried. */
  carriedBytes: number;
  dropped: string[];
  moved: string[];
  /** The whole `Cookie` header this request carried (session chunks and the app's other cookies) against `cookieHeaderLimit`. */
  header: CookieHeaderReport;
}

/**
 * Decode this request's session cookie (server only), the way Auth.js does: the cookie it reads for
 * this request's protocol (or the configured name), unless `cookieName` names it; chunks
 * reassembled, the name as the key-derivation salt (`readSessionToken`, shared by every reader).
 */
async function decodeRequestCookie(options: SessionCookieOptions, cookieName?: string): Promise<JWT | null> {
  return readSessionToken(await headers(), options, cookieName);
}

/**
 * `requestInfo` for `claimsKit()` in a Next.js app: the sign-in request's user agent (for the
 * sessions list) and the session token the browser already had, so that a re-sign-in ends the
 * previous session instead of leaving a copy of its cookie valid.
 *
 * @example
 * ```ts
 * claimsKit({ sessions, requestInfo: nextRequestInfo({ secret: process.env.AUTH_SECRET }), plugins })
 * ```
 */
export function nextRequestInfo(options: SessionCookieOptions): () => Promise<RequestInfo> {
  return async () => ({ userAgent: (await headers()).get("user-agent"), previousToken: await decodeRequestCookie(options) });
}

/** What {@link nextHelpers} returns: named types, so apps type-check against short declarations. */
export interface NextHelpers<K> {
  /** `auth()` typed with the kit's session, memoised per render (one `jwt()` run, one session check). */
  auth(): Promise<SessionOf<K> | null>;
  /** The decoded session token, token-only claims included (server only; no registry check). */
  readToken(): Promise<TokenOf<K> | null>;
  /** The cookie as stored, measured exactly as Auth.js encodes it (for a token inspector). */
  inspectCookie(): Promise<CookieInspection | null>;
  /** The current session's id (for "this device" on a sessions page). */
  sessionId(): Promise<string | undefined>;
  /**
   * Whether this request carries a session the registry still holds (not revoked, not signed out):
   * the cookie Auth.js reads, or exactly the cookie named `cookieName` (the link guard's check).
   */
  sessionActive(cookieName?: string): Promise<boolean>;
  /** The current session's server-side claims; `{}` for a revoked session. */
  readServerData(): Promise<Partial<ServerDataOf<K>>>;
  /** Change the current session's claims from a server action or route handler. */
  updateSession(patch: PatchOfKit<K>): Promise<{ ok: true } | { ok: false; code: string }>;
  /** The signed-in user's OAuth access token (refreshed first when due); none for a revoked session. */
  getAccessToken(source: AccessTokenSource): Promise<AccessTokenInfo | null>;
  /**
   * Whether the user authenticated at the provider within `maxAge` seconds (and with `acr`): the
   * typed result, or with `redirect: true` a redirect through the provider (`max_age`/`acr_values`)
   * back to `returnTo`. Needs `signIn` and `stepUp` in the options for the step-up itself.
   */
  requireRecentAuth(options: RecentAuthOptions): Promise<RequireRecentAuthResult>;
  /** The step-up route: `export const { GET } = stepUpRoute` in `app/api/auth/step-up/route.ts`. */
  stepUpRoute: { GET(request: Request): Promise<Response> };
}

/** Options of {@link nextHelpers}. */
export interface NextHelpersOptions extends SessionCookieOptions {
  /** `auth` from your `NextAuth()` call. */
  auth: () => Promise<unknown>;
  /**
   * The config passed to `NextAuth()`: `auth()` then runs Auth.js's session action as next-auth's
   * does, without the CSRF token Auth.js mints before every action (see `readServerSession`).
   */
  config?: SessionReadConfig;
  /** `unstable_update` from your `NextAuth()` call (for `updateSession`). */
  update?: (data: never) => Promise<unknown>;
  /** `signIn` from your `NextAuth()` call (for the step-up route). */
  signIn?: SignInFunction;
  /** The provider to step up with, and the step-up route's path (default `/api/auth/step-up`). */
  stepUp?: { provider: string; path?: string };
  /**
   * Limit for the whole `Cookie` header (default 8192, the common proxy limit): `inspectCookie()`
   * reports against it, and outside production `auth()` warns once when a request exceeds it.
   */
  cookieHeaderLimit?: number;
}

/**
 * The server helpers for one kit, bound to your `NextAuth()` result and the session cookie's
 * secret and name (nothing is read from the environment). Each decodes the cookie at most once per
 * render and checks the session registry where revocation matters.
 *
 * @example
 * ```ts
 * const nextAuth = NextAuth(config);
 * export const { auth, readToken, readServerData, updateSession, getAccessToken } =
 *   nextHelpers(kit, { auth: nextAuth.auth, update: nextAuth.unstable_update, secret: process.env.AUTH_SECRET });
 * const session = await auth(); // session.claims.role is typed from the plugins
 * ```
 */
export function nextHelpers<P extends readonly AnyPlugin[]>(kit: ClaimsKit<P>, helperOptions: NextHelpersOptions): NextHelpers<ClaimsKit<P>> {
  type K = ClaimsKit<P>;
  const internals = internalsOf(kit);
  // The cookie as the Auth.js config names it (its sessionToken name, useSecureCookies), so every
  // helper reads the cookie auth() reads.
  const options: NextHelpersOptions = {
    ...helperOptions,
    cookieName: helperOptions.cookieName ?? helperOptions.config?.cookies?.sessionToken?.name,
    useSecureCookies: helperOptions.useSecureCookies ?? helperOptions.config?.useSecureCookies,
  };
  const decoded = cache(() => decodeRequestCookie(options));
  const cookieHeader = cache(async () => {
    const { name } = sessionCookieOf(options, { headers: await headers() });
    return measureCookieHeader((await headers()).get("cookie"), { limit: options.cookieHeaderLimit, isSession: (n) => isSessionCookieName(n, [name]) });
  });
  const { requireRecentAuth, stepUpRoute } = stepUpHelpers({
    auth: options.auth,
    token: async () => {
      const token = await decoded();
      return token ? internals.expand(token) : null;
    },
    sessionId: async () => internals.sessionId(await decoded()),
    signIn: options.signIn,
    stepUp: options.stepUp,
  });

  return {
    requireRecentAuth,
    stepUpRoute,
    /** `auth()` typed with the kit's session, memoised per render (one `jwt()` run, one session check). */
    auth: cache(async () => {
      if (process.env.NODE_ENV !== "production") warnCookieHeaderOnce(await cookieHeader());
      const session = options.config ? await readServerSession(await headers(), options.config) : await options.auth();
      return session as SessionOf<K> | null;
    }),

    /**
     * The decoded session token, token-only claims included, for server components, route handlers
     * and server actions. Never pass it to a client component. It does not consult the session
     * registry: call `auth()` first where revocation matters.
     */
    async readToken(): Promise<TokenOf<K> | null> {
      const token = await decoded();
      return (token ? internals.expand(token) : null) as TokenOf<K> | null;
    },

    /**
     * The session cookie as the browser stores it, measured exactly as Auth.js encodes it (for a
     * token inspector): per claim (full name, stored key, bytes), the cookie bytes this request
     * actually carried, and what the size budget dropped or moved.
     */
    async inspectCookie(): Promise<CookieInspection | null> {
      const raw = await decoded();
      if (!raw) return null;
      const jar = (await cookies()).getAll();
      const { name, secure } = sessionCookieOf(options, { headers: await headers() });
      const carried = jar.filter((c) => isSessionCookieName(c.name, [name]));
      const { iat: _iat, exp: _exp, jti: _jti, ...stored } = raw;
      const measure = measureToken(stored, { secure, cookieName: name });
      const claims = Object.keys(stored)
        .filter((key) => key !== META_CLAIM)
        .map((key) => ({ name: Object.keys(internals.expand({ [key]: 0 }))[0]!, key, bytes: measure.perClaim[key] ?? 0 }))
        .sort((a, b) => b.bytes - a.bytes);
      const meta = readMeta(raw);
      return {
        measure,
        claims,
        bookkeepingBytes: measure.perClaim[META_CLAIM] ?? 0,
        carriedBytes: carried.reduce((sum, c) => sum + c.name.length + 1 + c.value.length, 0) + 2 * Math.max(0, carried.length - 1),
        dropped: meta.dropped ?? [],
        moved: meta.moved ?? [],
        header: await cookieHeader(),
      };
    },

    /** The current session's id (for "this device" on a sessions page). */
    async sessionId(): Promise<string | undefined> {
      return internals.sessionId(await decoded());
    },

    async sessionActive(cookieName?: string): Promise<boolean> {
      const token = cookieName ? await decodeRequestCookie(options, cookieName) : await decoded();
      return token ? internals.isActive(token) : false;
    },

    /** The current session's server-side claims (the values kept out of the cookie). */
    async readServerData(): Promise<Partial<ServerDataOf<K>>> {
      const token = await decoded();
      // A revoked session's cookie still decodes: check the registry before handing out its data.
      return ((await internals.isActive(token)) ? internals.readServerData(token) : {}) as Partial<ServerDataOf<K>>;
    },

    /**
     * Change the current session's claims from a server action or route handler: any declared
     * claim, `null` deletes, protected claims refused. The new cookie is set on this response.
     */
    async updateSession(patch: PatchOfKit<K>): Promise<{ ok: true } | { ok: false; code: string }> {
      if (!options.update) return { ok: false, code: "not_configured" };
      // Bound to this request's session: the nonce is useless to any other.
      const payload = internals.stageServerUpdate(patch, await decoded());
      const session = (await options.update(payload as never)) as KitSession | null;
      if (!session) return { ok: false, code: "not_signed_in" };
      const verdict = session.update;
      if (verdict?.nonce !== payload.nonce) return { ok: false, code: "no_response" };
      return verdict.code ? { ok: false, code: verdict.code } : { ok: true };
    },

    /**
     * The signed-in user's OAuth access token (refreshed first when due), for server code only.
     * A revoked session gets none.
     */
    async getAccessToken(source: AccessTokenSource): Promise<AccessTokenInfo | null> {
      const token = await decoded();
      return token && (await internals.isActive(token)) ? source.accessToken(internals.expand(token)) : null;
    },
  };
}

/**
 * Auth.js's route handlers, guarded: only the `session` and `signout` actions see the session
 * cookie, so a sign-in callback (or a passkey registration) cannot link a new provider account to
 * whoever that cookie (revoked, stolen, left signed in on a shared computer) belongs to. The kit
 * still learns of the previous session (`nextRequestInfo` reads the original request) and ends it.
 * Use in `app/api/auth/[...nextauth]/route.ts`.
 *
 * @example
 * ```ts
 * export const { GET, POST } = guardedHandlers(handlers);
 * ```
 */
/**
 * Providers a signed-in user may link to their account (Auth.js links an account signed in with
 * while a session cookie arrives), and how to tell the session is still active.
 *
 * @example
 * ```ts
 * const link: LinkOptions = { providers: ["work"], sessionActive };
 * ```
 */
export interface LinkOptions {
  providers: readonly string[];
  /** Whether the session in the cookie named `cookieName` (and its chunks) is active: `nextHelpers().sessionActive`. */
  sessionActive(cookieName: string): Promise<boolean>;
  /**
   * Whether Auth.js uses `__Secure-` cookies. Default: the `config`'s `useSecureCookies`, else as
   * Auth.js decides it from the request's protocol (`AUTH_URL`, else `x-forwarded-proto`, else the URL).
   */
  secureCookie?: boolean;
}

export function guardedHandlers<R extends Request>(
  handlers: { GET(request: R): Promise<Response>; POST(request: R): Promise<Response> },
  options: AuthRequestGuardOptions & {
    link?: LinkOptions;
    /**
     * The config passed to `NextAuth()`: session reads (GET of the session endpoint) then run
     * Auth.js's session action without the CSRF token Auth.js mints first (see `readSessionResponse`).
     */
    config?: SessionReadConfig;
  } = {},
): { GET(request: R): Promise<Response>; POST(request: R): Promise<Response> } {
  const { config } = options;
  const guard = (handle: (request: R) => Promise<Response>) => async (request: R) => {
    // Linking a second provider: its callback sees the cookie, only while that session is active.
    // Checked is exactly the cookie Auth.js will read (its name by protocol, as Auth.js picks it);
    // every other session cookie is stripped, so a second, stolen one cannot ride along.
    const name = options.link
      ? linkSessionCookie(request, { ...options.link, cookieName: options.cookieName ?? config?.cookies?.sessionToken?.name, secureCookie: options.link.secureCookie ?? config?.useSecureCookies })
      : null;
    const keepSession = name !== null && (await options.link!.sessionActive(name)) ? name : undefined;
    const { request: safe, removed } = guardAuthRequest(request, { ...options, keepSession });
    if (removed.length === 0) return handle(request);
    // Next's handlers take a NextRequest: keep its type by building one from the safe request.
    const { NextRequest } = await import("next/server");
    return expireRemoved(await handle(new NextRequest(safe) as unknown as R), removed, options);
  };
  return {
    GET: guard((r) => (config && isSessionRead(r, config) ? readSessionResponse(r, config) : handlers.GET(r))),
    POST: guard((r) => handlers.POST(r)),
  };
}
