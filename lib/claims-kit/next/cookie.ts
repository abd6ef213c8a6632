// The session cookie's name, as Auth.js chooses it: never read from the environment.
import { SESSION_COOKIE_NAME as DEFAULT_NAME } from "../core/session-cookie";

/** Where the session cookie is and how it is encrypted. */
export interface SessionCookieOptions {
  /** Auth.js's secret (`AUTH_SECRET`); an array for rotation (the first one encrypts). */
  secret: string | string[] | undefined;
  /**
   * The session cookie's name when you set `cookies.sessionToken.name` in the Auth.js config.
   * Default: Auth.js's `authjs.session-token`, with the `__Secure-` prefix on https.
   */
  cookieName?: string;
  /**
   * The `decode` of your `NextAuth({ jwt })` when it is not Auth.js's own (e.g. `sessionCodec()`
   * from `claims-kit/codec`), so the helpers read the cookie the way Auth.js does, as cheaply.
   */
  decode?: (params: { token?: string; secret: string | string[]; salt: string }) => Promise<Record<string, unknown> | null>;
}


/**
 * The session cookie's name for a request that carries cookies named `present`: the configured
 * name, else Auth.js's default, secure when the request carries the `__Secure-` one.
 *
 * @example
 * ```ts
 * sessionCookieOf({ secret }, ["__Secure-authjs.session-token.0"]); // { name: "__Secure-authjs.session-token", secure: true }
 * ```
 */
export function sessionCookieOf(options: SessionCookieOptions, present: readonly string[]): { name: string; secure: boolean } {
  if (options.cookieName) return { name: options.cookieName, secure: options.cookieName.startsWith("__Secure-") };
  const secure = present.some((n) => n === `__Secure-${DEFAULT_NAME}` || n.startsWith(`__Secure-${DEFAULT_NAME}.`));
  return { name: secure ? `__Secure-${DEFAULT_NAME}` : DEFAULT_NAME, secure };
}
