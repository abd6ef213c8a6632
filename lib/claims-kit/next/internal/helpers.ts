// The server helpers of one kit in a Next.js app (auth(), readToken(), updateSession()...), bound to
// the NextAuth() result and the session cookie as the Auth.js config names it. Built by
// nextClaimsKit(); each decodes the cookie at most once per render.
import type { Result } from "../../engine/errors";
import { kindOf } from "../../engine/kinds";
import "server-only";
import { cache } from "react";
import { cookies, headers } from "next/headers";
import type { JWT } from "next-auth/jwt";
import { internalsOf, type ClaimsKit, type PatchOfKit, type ServerDataOf, type SessionOf, type TokenOf } from "../../engine/kit";
import type { AccessTokenInfo, AccessTokenSource } from "../../engine/ports";
import { measureToken, type TokenMeasure } from "../../cookie/measure";
import { META_CLAIM, readMeta, sessionIdOfToken } from "../../engine/meta";
import type { AnyPlugin, KitSession, RequestInfo } from "../../engine/types";
import { isSessionCookieName } from "../../cookie/session-cookie";
import { readSessionCookieValue, readSessionToken, sessionCookieOf, type SessionCookieOptions } from "./cookie";
import { measureCookieHeader, warnCookieHeaderOnce, type CookieHeaderReport } from "./cookie-header";
import { readServerSession, type SessionReadConfig } from "./session-reads";
import { stepUpHelpers, type RecentAuthOptions, type RequireRecentAuthResult, type SignInFunction, type StepUpOptions } from "./step-up";

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
 * The kit's `requestInfo` in a Next.js request: the sign-in request's user agent (for the sessions
 * list) and the session token the browser already had, so that a re-sign-in ends the previous
 * session instead of leaving a copy of its cookie valid.
 */
export function nextRequestInfo(cookie: () => SessionCookieOptions, strategy: "jwt" | "database"): () => Promise<RequestInfo> {
  return async () => {
    const h = await headers();
    if (strategy === "jwt") return { userAgent: h.get("user-agent"), previousToken: await decodeRequestCookie(cookie()) };
    const sessionToken = readSessionCookieValue(h, cookie());
    return { userAgent: h.get("user-agent"), previousSessionId: sessionToken ? await sessionIdOfToken(sessionToken) : null };
  };
}

/** The server helpers `nextClaimsKit()` returns: named types, so apps type-check against short declarations. */
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
  updateSession(patch: PatchOfKit<K>): Promise<Result<object, string>>;
  /** The signed-in user's OAuth access token (refreshed first when due); none for a revoked session. */
  getAccessToken(source: AccessTokenSource): Promise<AccessTokenInfo | null>;
  /**
   * Whether the user authenticated at the provider within `maxAge` seconds (and with `acr`): the
   * typed result, or with `redirect: true` a redirect through the provider (`max_age`/`acr_values`)
   * back to `returnTo`. The step-up itself needs `stepUp: { provider }` in `nextClaimsKit()`'s options.
   */
  requireRecentAuth(options: RecentAuthOptions): Promise<RequireRecentAuthResult>;
  /** The step-up route: `export const { GET } = stepUpRoute` in `app/api/auth/step-up/route.ts`. */
  stepUpRoute: { GET(request: Request): Promise<Response> };
}

/** What the helpers are bound to (see `nextClaimsKit()`). */
export interface HelperDeps {
  /** The config passed to `NextAuth()`: `auth()` runs its session action without a CSRF token. */
  config: SessionReadConfig;
  /** `unstable_update` from `NextAuth()` (for `updateSession`). */
  update: (data: never) => Promise<unknown>;
  /** `signIn` from `NextAuth()` (for the step-up route). */
  signIn: SignInFunction;
  /** The session cookie, read per request: `NextAuth()` fills the secret in when the server starts. */
  cookie(): SessionCookieOptions;
  /** The app's AUTH_URL, when set (Auth.js builds its URLs from it). */
  authUrl?: string;
  /** The provider to step up with, and the step-up route's path (default `/api/auth/step-up`). */
  stepUp?: StepUpOptions;
  /** Limit for the whole `Cookie` header (default 8192): `inspectCookie()` reports against it. */
  cookieHeaderLimit?: number;
  /** Warn once when a request's `Cookie` header exceeds the limit. */
  development?: boolean;
  /** Auth.js's session strategy: under "database" the cookie is a session token and the kit's side of the session lives in the registry. */
  strategy: "jwt" | "database";
}

/**
 * The server helpers for one kit (nothing is read from the environment). Each decodes the cookie
 * at most once per render and checks the session registry where revocation matters.
 */
export function serverHelpers<P extends readonly AnyPlugin[]>(kit: ClaimsKit<P>, deps: HelperDeps): NextHelpers<ClaimsKit<P>> {
  type K = ClaimsKit<P>;
  const internals = internalsOf(kit);
  const options = deps.cookie;
  // The session's token as the kit keeps it: the cookie's JWT, or (database strategy) the state the
  // registry holds for the cookie's session token.
  const decoded = cache(async (): Promise<JWT | null> => {
    if (deps.strategy === "jwt") return decodeRequestCookie(options());
    const sessionToken = readSessionCookieValue(await headers(), options());
    return sessionToken ? ((await internals.stateOfSessionToken(sessionToken)) as JWT | null) : null;
  });
  const cookieHeader = cache(async () => {
    const { name } = sessionCookieOf(options(), { headers: await headers() });
    return measureCookieHeader((await headers()).get("cookie"), { limit: deps.cookieHeaderLimit, isSession: (n) => isSessionCookieName(n, [name]) });
  });
  const auth = cache(async () => (await readServerSession(await headers(), deps.config, deps.authUrl)) as SessionOf<K> | null);
  const { requireRecentAuth, stepUpRoute } = stepUpHelpers({
    auth,
    token: async () => {
      const token = await decoded();
      return token ? internals.expand(token) : null;
    },
    sessionId: async () => internals.sessionId(await decoded()),
    signIn: deps.signIn,
    stepUp: deps.stepUp,
  });

  return {
    requireRecentAuth,
    stepUpRoute,
    /** `auth()` typed with the kit's session, memoised per render (one `jwt()` run, one session check). */
    async auth() {
      if (deps.development) warnCookieHeaderOnce(await cookieHeader());
      return auth();
    },

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
      // Under the database strategy the cookie is an opaque session token: nothing to measure.
      const raw = deps.strategy === "jwt" ? await decoded() : null;
      if (!raw) return null;
      const jar = (await cookies()).getAll();
      const { name, secure } = sessionCookieOf(options(), { headers: await headers() });
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
      const token = cookieName && deps.strategy === "jwt" ? await decodeRequestCookie(options(), cookieName) : await decoded();
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
    async updateSession(patch: PatchOfKit<K>): Promise<Result<object, string>> {
      // Bound to this request's session: the nonce is useless to any other.
      const payload = internals.stageServerUpdate(patch, await decoded());
      const session = (await deps.update(payload as never)) as KitSession | null;
      if (!session) return { ok: false, kind: "refused", code: "not_signed_in" };
      const verdict = session.update;
      if (verdict?.nonce !== payload.nonce) return { ok: false, kind: "failed", code: "no_response" };
      return verdict.code ? { ok: false, kind: kindOf(verdict.code), code: verdict.code } : { ok: true };
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

