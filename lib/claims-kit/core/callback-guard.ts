// Auth.js links a new OAuth/OIDC account to the user of whatever session cookie arrives with the
// sign-in callback: it decodes the cookie itself, without the kit's jwt() and without the session
// registry. A revoked or signed-out cookie (a stolen copy, a shared computer) would then attach an
// attacker's provider identity to its user for good. An app without a "link another account"
// flow has no use for that: the callback must not see the session cookie.

const DEFAULT_NAMES = ["authjs.session-token", "__Secure-authjs.session-token"];

function isSessionCookieName(name: string, bases: readonly string[]): boolean {
  return bases.some((base) => name === base || (name.startsWith(`${base}.`) && /^\d+$/.test(name.slice(base.length + 1))));
}

/** Options of {@link guardSignInCallback}. */
export interface CallbackGuardOptions {
  /** Auth.js's `basePath`. Default "/api/auth". */
  basePath?: string;
  /** The session cookie's name when the Auth.js config renames it. Default: Auth.js's names. */
  cookieName?: string;
}

/**
 * For an Auth.js sign-in callback (`{basePath}/callback/...`): the same request without the session
 * cookie(s), and the names it removed (so the response can expire them). Any other request is
 * returned as it is. Framework-neutral: works on a web `Request`.
 *
 * @example
 * ```ts
 * const { request: safe, removed } = guardSignInCallback(request);
 * const response = await Auth(safe, config);
 * ```
 */
export function guardSignInCallback(request: Request, options: CallbackGuardOptions = {}): { request: Request; removed: string[] } {
  const basePath = (options.basePath ?? "/api/auth").replace(/\/$/, "");
  if (!new URL(request.url).pathname.startsWith(`${basePath}/callback/`)) return { request, removed: [] };
  const header = request.headers.get("cookie");
  if (!header) return { request, removed: [] };
  const bases = options.cookieName ? [options.cookieName] : DEFAULT_NAMES;
  const kept: string[] = [];
  const removed: string[] = [];
  for (const part of header.split(";")) {
    const name = part.slice(0, part.indexOf("=") === -1 ? undefined : part.indexOf("=")).trim();
    if (name && isSessionCookieName(name, bases)) removed.push(name);
    else if (part.trim()) kept.push(part.trim());
  }
  if (removed.length === 0) return { request, removed };
  const headers = new Headers(request.headers);
  if (kept.length > 0) headers.set("cookie", kept.join("; "));
  else headers.delete("cookie");
  return { request: new Request(request, { headers }), removed };
}

/**
 * Expire the session cookies the guard removed that the response does not set again (old chunks
 * of a previous session), so the browser is left with exactly the new session.
 *
 * @example
 * ```ts
 * return expireRemoved(await Auth(safe, config), removed);
 * ```
 */
export function expireRemoved(response: Response, removed: readonly string[]): Response {
  const set = new Set(response.headers.getSetCookie().map((c) => c.slice(0, c.indexOf("=")).trim()));
  const stale = removed.filter((name) => !set.has(name));
  if (stale.length === 0) return response;
  const headers = new Headers(response.headers);
  for (const name of stale) headers.append("set-cookie", `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${name.startsWith("__Secure-") ? "; Secure" : ""}`);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
