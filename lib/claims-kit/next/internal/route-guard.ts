// Auth.js links a new OAuth/OIDC account (or a passkey) to the user of whatever session cookie
// arrives with the request: it decodes the cookie itself, without the kit's jwt() and without the
// session registry. A revoked or signed-out cookie (a stolen copy, a shared computer) would then
// attach an attacker's provider identity to its user for good. So only the `session` and `signout`
// actions see the cookie, unless the caller has checked the session is active and the callback is
// one of a provider the app lets users link (`keepSession`).

import { DEFAULT_SESSION_COOKIE_NAMES as DEFAULT_NAMES, isSessionCookieName, sessionCookieFor } from "../../cookie/session-cookie";

/** The Auth.js actions that need the session cookie. */
const NEEDS_SESSION = new Set(["session", "signout"]);

/**
 * Whether a request is for an action that needs the session cookie. Decided from the path's last
 * segments, without knowing the base path (`/api/auth`, `/auth`, a Next `basePath`…): Auth.js's
 * `session` and `signout` actions take no further segment, so anything else (`callback/<id>`,
 * `signin/<id>`, `webauthn-options/<id>`, unknown actions) goes without it.
 */
function needsSession(url: URL): boolean {
  const segments = url.pathname.split("/").filter((s) => s.length > 0);
  const last = segments.at(-1);
  return last !== undefined && NEEDS_SESSION.has(last) && !segments.includes("callback");
}

/**
 * For a callback of a provider users may link: the session cookie Auth.js will read on it (by
 * protocol, as Auth.js picks it and every other reader does: `sessionCookieFor`), which the caller
 * must find active before passing it as `keepSession`. Null for any other request.
 *
 * @example
 * ```ts
 * const name = linkSessionCookie(request, { providers: ["work"] });
 * const keepSession = name && (await sessionActive(name)) ? name : undefined;
 * ```
 */
export function linkSessionCookie(request: Request, options: { providers: readonly string[]; secureCookie?: boolean; cookieName?: string; authUrl?: string }): string | null {
  const provider = callbackProvider(new URL(request.url));
  if (provider === null || !options.providers.includes(provider)) return null;
  return sessionCookieFor(request, { cookieName: options.cookieName, useSecureCookies: options.secureCookie, authUrl: options.authUrl }).name;
}

/** Options of {@link guardAuthRequest}. */
export interface AuthRequestGuardOptions {
  /** The session cookie's name when the Auth.js config renames it. Default: Auth.js's names. */
  cookieName?: string;
  /**
   * Let exactly this session cookie (and its `.N` chunks) through: a link callback whose session
   * the caller checked is active. Every other session cookie is still removed.
   */
  keepSession?: string;
}

/**
 * The provider id of a callback request (`…/callback/<id>`), else null.
 *
 * @example
 * ```ts
 * callbackProvider(new URL("https://app.example/api/auth/callback/work")); // "work"
 * ```
 */
export function callbackProvider(url: URL): string | null {
  const segments = url.pathname.split("/").filter((s) => s.length > 0);
  return segments.at(-2) === "callback" ? decodeURIComponent(segments.at(-1)!) : null;
}

/**
 * For a request to Auth.js's routes: the same request without the session cookie(s) unless its
 * action is `session` or `signout`, and the names it removed (so the response can expire them).
 * Framework-neutral: works on a web `Request`, whatever the base path.
 *
 * @example
 * ```ts
 * const { request: safe, removed } = guardAuthRequest(request);
 * const response = expireRemoved(await Auth(safe, config), removed);
 * ```
 */
export function guardAuthRequest(request: Request, options: AuthRequestGuardOptions = {}): { request: Request; removed: string[] } {
  const header = request.headers.get("cookie");
  if (!header || (!options.keepSession && needsSession(new URL(request.url)))) return { request, removed: [] };
  const keep = options.keepSession;
  const keptCookie = (name: string) => keep !== undefined && (name === keep || (name.startsWith(`${keep}.`) && /^\d+$/.test(name.slice(keep.length + 1))));
  const bases = options.cookieName ? [options.cookieName] : DEFAULT_NAMES;
  const kept: string[] = [];
  const removed: string[] = [];
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name && isSessionCookieName(name, bases) && !keptCookie(name)) removed.push(name);
    else if (part.trim()) kept.push(part.trim());
  }
  if (removed.length === 0) return { request, removed };
  const headers = new Headers(request.headers);
  if (kept.length > 0) headers.set("cookie", kept.join("; "));
  else headers.delete("cookie");
  return { request: new Request(request, { headers }), removed };
}

/**
 * When the response issues a new session (a sign-in), expire the session cookies the guard removed
 * that it does not set again (old chunks of a previous session, stray copies), so the browser is
 * left with exactly the new session. Any other response is returned as it is.
 *
 * @example
 * ```ts
 * return expireRemoved(await Auth(safe, config), removed);
 * ```
 */
export function expireRemoved(response: Response, removed: readonly string[], options: AuthRequestGuardOptions = {}): Response {
  const bases = options.cookieName ? [options.cookieName] : DEFAULT_NAMES;
  const set = new Set(response.headers.getSetCookie().map((c) => c.slice(0, c.indexOf("=")).trim()));
  if (![...set].some((name) => isSessionCookieName(name, bases))) return response;
  const stale = removed.filter((name) => !set.has(name));
  if (stale.length === 0) return response;
  const headers = new Headers(response.headers);
  for (const name of stale) headers.append("set-cookie", `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${name.startsWith("__Secure-") ? "; Secure" : ""}`);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
