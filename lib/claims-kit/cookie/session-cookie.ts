// Auth.js's session cookie names, and which cookies it reads as the session: one place for both.

/** Auth.js's default session cookie name (`__Secure-` prefixed on https). */
export const SESSION_COOKIE_NAME = "authjs.session-token";
/** Both default names, plain and secure. */
export const DEFAULT_SESSION_COOKIE_NAMES = [SESSION_COOKIE_NAME, `__Secure-${SESSION_COOKIE_NAME}`] as const;

/**
 * Whether Auth.js would read a cookie as (part of) the session: like its own SessionStore, every
 * cookie whose name starts with a session cookie's name, not only the name and its `.0`, `.1` chunks.
 *
 * @example
 * ```ts
 * isSessionCookieName("authjs.session-token.1", DEFAULT_SESSION_COOKIE_NAMES); // true
 * ```
 */
export function isSessionCookieName(name: string, bases: readonly string[]): boolean {
  return bases.some((base) => name.startsWith(base));
}

/**
 * How an Auth.js config names its session cookie, when it does (else Auth.js's defaults apply).
 *
 * @example
 * ```ts
 * const choice: SessionCookieChoice = { cookieName: config.cookies?.sessionToken?.name, useSecureCookies: config.useSecureCookies };
 * ```
 */
export interface SessionCookieChoice {
  /** `cookies.sessionToken.name` of the Auth.js config: this exact name, whatever the protocol. */
  cookieName?: string;
  /** `useSecureCookies` of the Auth.js config: `__Secure-` or not, whatever the protocol. */
  useSecureCookies?: boolean;
  /**
   * The app's `AUTH_URL` (or `NEXTAUTH_URL`) when it sets one: Auth.js then takes the protocol from
   * it. The kit reads no environment variable; pass it in.
   */
  authUrl?: string;
}

/** The protocol of a URL string, or null when it does not parse. */
function protocolOf(url: string): string | null {
  try {
    return new URL(url).protocol;
  } catch {
    return null;
  }
}

/**
 * Whether Auth.js serves this request over https, as it derives the protocol: `AUTH_URL` (or
 * `NEXTAUTH_URL`) when set, else the `x-forwarded-proto` header (next-auth's `auth()`; Next.js sets
 * it on every request), else the request URL's, else https (Auth.js's own default).
 */
function requestIsHttps(request: { readonly headers: Headers; readonly url?: string }, authUrl: string | undefined): boolean {
  if (authUrl) return protocolOf(authUrl) === "https:";
  const forwarded = request.headers.get("x-forwarded-proto");
  if (forwarded !== null) return forwarded.trim().toLowerCase().replace(/:$/, "") === "https";
  if (request.url) return protocolOf(request.url) === "https:";
  return true;
}

/**
 * The session cookie Auth.js reads for a request: the config's name when it sets one, else
 * `authjs.session-token`, `__Secure-` prefixed when the config's `useSecureCookies` says so or, by
 * default, when the request is https as Auth.js derives it (`AUTH_URL`, then `x-forwarded-proto`,
 * then the URL). Never from which cookies the request happens to carry: a stale or planted
 * `__Secure-` cookie next to the plain one must not change which session is read. Every reader of
 * the session (server helpers, proxy, route guard) decides with this one function.
 *
 * @example
 * ```ts
 * sessionCookieFor({ headers: new Headers({ "x-forwarded-proto": "http" }) }); // { name: "authjs.session-token", secure: false }
 * sessionCookieFor(request, { useSecureCookies: true }); // { name: "__Secure-authjs.session-token", secure: true }
 * ```
 */
export function sessionCookieFor(
  request: { readonly headers: Headers; readonly url?: string },
  choice: SessionCookieChoice = {},
): { name: string; secure: boolean } {
  const secure = choice.useSecureCookies ?? requestIsHttps(request, choice.authUrl);
  if (choice.cookieName) return { name: choice.cookieName, secure: choice.cookieName.startsWith("__Secure-") };
  return { name: secure ? `__Secure-${SESSION_COOKIE_NAME}` : SESSION_COOKIE_NAME, secure };
}
