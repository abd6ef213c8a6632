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
