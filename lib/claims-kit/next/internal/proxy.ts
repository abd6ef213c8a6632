// The app's Next 16 proxy: refresh a due session before a server render, in-process.
import { NextRequest, NextResponse } from "next/server";
import { internalsOf } from "../../engine/kit";
import type { TokenView } from "../../engine/types";
import { isSessionCookieName } from "../../cookie/session-cookie";
import { readSessionToken, sessionCookieOf, type SessionCookieOptions } from "./cookie";

/** Options of {@link refreshingProxy}. */
export interface RefreshingProxyOptions {
  /** The session cookie, read per request (`NextAuth()` fills the secret in when the server starts). */
  cookie(): SessionCookieOptions;
  /** The kit (its short claim keys are undone before `isDue` sees the token). */
  kit: object;
  /** Whether the decoded token needs a refresh (e.g. `oauth.isDue`). */
  isDue(token: TokenView): boolean;
  /**
   * Auth.js's GET handler (`handlers.GET` from `NextAuth()`), called in-process: no HTTP request
   * leaves the proxy, so a forged Host header cannot point it at another server.
   */
  handler(request: NextRequest): Promise<Response>;
  /** Auth.js's session endpoint. Default "/api/auth/session". */
  sessionPath?: string;
}

/**
 * Apply Set-Cookie headers to a request's cookies (new values in, cleared ones out).
 *
 * @example
 * ```ts
 * applySetCookies("a=1; b=2", ["a=3; Path=/", "b=; Max-Age=0"]); // "a=3"
 * ```
 */
export function applySetCookies(cookieHeader: string, setCookies: readonly string[]): string {
  const jar = new Map<string, string>();
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  for (const header of setCookies) {
    const [pair = "", ...attributes] = header.split(";");
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = value === "" || attributes.some((a) => {
      const [k = "", v = ""] = a.split("=");
      const key = k.trim().toLowerCase();
      return (key === "max-age" && Number(v) <= 0) || (key === "expires" && Date.parse(v) <= Date.now());
    });
    if (expired) jar.delete(name);
    else jar.set(name, value);
  }
  return [...jar].map(([n, v]) => `${n}=${v}`).join("; ");
}

/**
 * A Next 16 `proxy` that refreshes the session before a server render when it is due, and forwards
 * the refreshed cookie into the same request, so Server Components read fresh claims and never
 * refresh with a consumed refresh token. The refresh itself runs through Auth.js's own session
 * handler, called in-process (chunking, cookie attributes and the kit's `jwt()` as usual). On a
 * server action the refreshed cookie goes through Next's cookie store, so an action that writes the
 * session too (updateSession, signOut) sends it once, not twice.
 *
 * @example
 * ```ts
 * const proxy = refreshingProxy({ kit, handler: nextAuth.handlers.GET, isDue: (t) => oauth.isDue(t), cookie: () => ({ secret: config.secret }) });
 * ```
 */
export function refreshingProxy(options: RefreshingProxyOptions) {
  const sessionPath = options.sessionPath ?? "/api/auth/session";
  const { expand } = internalsOf(options.kit);
  return async function proxy(request: NextRequest): Promise<NextResponse> {
    const cookie = options.cookie();
    const present = request.cookies.getAll().map((c) => c.name);
    // The cookie Auth.js (and every server helper) reads for this request's protocol: a planted or
    // stale cookie under the other name is never the one refreshed.
    const { name } = sessionCookieOf(cookie, request);
    if (!cookie.secret || !present.some((n) => isSessionCookieName(n, [name]))) return NextResponse.next();
    const token = await readSessionToken(request.headers, cookie, name);
    if (!token || !options.isDue(expand(token))) return NextResponse.next();

    const sessionRequest = new NextRequest(new URL(sessionPath, request.url), {
      headers: { cookie: request.headers.get("cookie") ?? "", "user-agent": request.headers.get("user-agent") ?? "" },
    });
    const response = await options.handler(sessionRequest).catch(() => null);
    const setCookies = response?.headers.getSetCookie() ?? [];
    // Read the (small) body to the end: cancelling it instead left the request hanging under Next 16.
    await response?.arrayBuffer().catch(() => undefined);
    if (setCookies.length === 0) return NextResponse.next();

    const headers = new Headers(request.headers);
    headers.set("cookie", applySetCookies(request.headers.get("cookie") ?? "", setCookies));
    const next = NextResponse.next({ request: { headers } });
    if (request.headers.has("next-action")) {
      // A server action may write the session itself (updateSession, signOut). Given to Next's
      // cookie store rather than the response, the refreshed cookie is sent with the action's
      // response and replaced by the action's own write: one Set-Cookie per cookie, never both.
      const parsed = new NextResponse(null, { headers: setCookies.map((c): [string, string] => ["set-cookie", c]) }).cookies.getAll();
      for (const cookie of parsed) next.cookies.set(cookie);
      next.headers.delete("set-cookie");
    } else {
      for (const header of setCookies) next.headers.append("set-cookie", header);
    }
    return next;
  };
}
