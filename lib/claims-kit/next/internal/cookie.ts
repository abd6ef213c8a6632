// The session cookie's name, as Auth.js chooses it, and its one reader for the server helpers.
// Next-free (a Headers in, a token out), so tests run the very code the helpers run.
import { getToken, type JWT } from "next-auth/jwt";
import { sessionCookieFor, type SessionCookieChoice } from "../../cookie/session-cookie";

/** Where the session cookie is and how it is encrypted. */
export interface SessionCookieOptions extends SessionCookieChoice {
  /** Auth.js's secret (`AUTH_SECRET`); an array for rotation (the first one encrypts). */
  secret: string | string[] | undefined;
  /**
   * The session cookie's name when you set `cookies.sessionToken.name` in the Auth.js config.
   * Default: Auth.js's `authjs.session-token`, with the `__Secure-` prefix on https.
   */
  cookieName?: string;
  /**
   * `useSecureCookies` when you set it in the Auth.js config. Default: as Auth.js decides, from the
   * request's protocol (`AUTH_URL`, else `x-forwarded-proto`, else the URL).
   */
  useSecureCookies?: boolean;
  /**
   * The `decode` of your `NextAuth({ jwt })` when it is not Auth.js's own (e.g. `sessionCodec()`
   * from `claims-kit/codec`), so the helpers read the cookie the way Auth.js does, as cheaply.
   */
  decode?: (params: { token?: string; secret: string | string[]; salt: string }) => Promise<Record<string, unknown> | null>;
}

/**
 * The session cookie's name for a request, as Auth.js chooses it (see `sessionCookieFor`): the
 * configured name or `useSecureCookies`, else by the request's protocol; never by which cookies
 * the request carries.
 *
 * @example
 * ```ts
 * sessionCookieOf({ secret }, { headers: new Headers({ "x-forwarded-proto": "https" }) }); // { name: "__Secure-authjs.session-token", secure: true }
 * ```
 */
export function sessionCookieOf(options: SessionCookieOptions, request: { readonly headers: Headers; readonly url?: string }): { name: string; secure: boolean } {
  return sessionCookieFor(request, options);
}

/**
 * Decode the session token of a request with these headers the way Auth.js reads it: the cookie
 * `sessionCookieOf` names (chunks reassembled, the name as the key-derivation salt), or exactly
 * `cookieName` when given. Only the `Cookie` header counts (getToken would also take an
 * `Authorization: Bearer` token, which Auth.js's session never reads). Null when absent or invalid.
 *
 * @example
 * ```ts
 * const token = await readSessionToken(await headers(), { secret: process.env.AUTH_SECRET });
 * ```
 */
export async function readSessionToken(headers: Headers, options: SessionCookieOptions, cookieName?: string): Promise<JWT | null> {
  if (!options.secret) return null;
  const { name, secure } = cookieName ? { name: cookieName, secure: cookieName.startsWith("__Secure-") } : sessionCookieOf(options, { headers });
  const cookies = new Headers({ cookie: headers.get("cookie") ?? "" });
  return getToken({ req: { headers: cookies }, secret: options.secret, secureCookie: secure, cookieName: name, salt: name, ...(options.decode ? { decode: options.decode } : {}) }).catch(() => null);
}

/**
 * The raw value of the session cookie Auth.js reads for these headers (the database strategy's
 * opaque session token), or null.
 *
 * @example
 * ```ts
 * const sessionToken = readSessionCookieValue(await headers(), { secret });
 * ```
 */
export function readSessionCookieValue(headers: Headers, options: SessionCookieOptions): string | null {
  const { name } = sessionCookieOf(options, { headers });
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim()) || null;
  }
  return null;
}
