// Auth.js's route handlers for the app's `[...nextauth]` route, guarded: only the session and
// sign-out actions see the session cookie, and session reads run without a CSRF token.
import { expireRemoved, guardAuthRequest, linkSessionCookie, type AuthRequestGuardOptions } from "./route-guard";
import { isSessionRead, readSessionResponse, type SessionReadConfig } from "./session-reads";

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
  /** Whether the session in the cookie named `cookieName` (and its chunks) is active: `sessionActive` of `nextClaimsKit()`. */
  sessionActive(cookieName: string): Promise<boolean>;
  /**
   * Whether Auth.js uses `__Secure-` cookies. Default: the `config`'s `useSecureCookies`, else as
   * Auth.js decides it from the request's protocol (`AUTH_URL`, else `x-forwarded-proto`, else the URL).
   */
  secureCookie?: boolean;
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
export function guardedHandlers<R extends Request>(
  handlers: { GET(request: R): Promise<Response>; POST(request: R): Promise<Response> },
  options: AuthRequestGuardOptions & {
    link?: LinkOptions;
    /** The app's AUTH_URL, when set: Auth.js takes the protocol (and so the cookie's name) from it. */
    authUrl?: string;
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
      ? linkSessionCookie(request, { ...options.link, cookieName: options.cookieName ?? config?.cookies?.sessionToken?.name, secureCookie: options.link.secureCookie ?? config?.useSecureCookies, authUrl: options.authUrl })
      : null;
    const keepSession = name !== null && (await options.link!.sessionActive(name)) ? name : undefined;
    const { request: safe, removed } = guardAuthRequest(request, { ...options, keepSession });
    if (removed.length === 0) return handle(request);
    // Next's handlers take a NextRequest: keep its type by building one from the safe request.
    const { NextRequest } = await import("next/server");
    return expireRemoved(await handle(new NextRequest(safe) as unknown as R), removed, options);
  };
  return {
    GET: guard((r) => (config && isSessionRead(r, config) ? readSessionResponse(r, config, options.authUrl) : handlers.GET(r))),
    POST: guard((r) => handlers.POST(r)),
  };
}
