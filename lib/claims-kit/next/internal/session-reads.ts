// Session reads through Auth.js itself, minus the one thing a read does not need: the CSRF token
// Auth.js mints (random bytes and a SHA-256 on WebCrypto) before every action, reads included. A
// GET of the session endpoint and `auth()` in a server component run Auth.js's own session action
// (decode, jwt(), session(), encode, chunking, cookie attributes, events) with `skipCSRFCheck`;
// every other request (sign-in, sign-out, update()) keeps Auth.js's CSRF protection.
import { Auth, createActionURL, skipCSRFCheck, type AuthConfig } from "@auth/core";
import type { Session } from "@auth/core/types";

/**
 * The Auth.js config passed to `NextAuth()`, read on each request: `NextAuth()` fills in the secret
 * and `basePath` from the environment on that same object.
 */
export type SessionReadConfig = AuthConfig;

/** `{basePath}/session`, the base path's slashes normalised as Auth.js's createActionURL does. */
const sessionPathOf = (config: SessionReadConfig): string => `/${(config.basePath ?? "/api/auth").replace(/(^\/|\/$)/g, "")}/session`;

/** The app's AUTH_URL origin, as next-auth's route handlers apply it (`reqWithEnvURL`). */
function withEnvOrigin(request: Request, authUrl: string | undefined): Request {
  if (!authUrl) return request;
  const url = new URL(request.url);
  const origin = new URL(authUrl).origin;
  return url.origin === origin ? request : new Request(`${origin}${url.pathname}${url.search}`, request);
}

/**
 * Whether `request` is a session read: GET `{basePath}/session`.
 *
 * @example
 * ```ts
 * isSessionRead(new Request("http://localhost/api/auth/session"), config); // true
 * ```
 */
export function isSessionRead(request: Request, config: SessionReadConfig): boolean {
  if (request.method !== "GET") return false;
  const path = sessionPathOf(config);
  // The path is checked on the URL's own parse; a cheap substring test first skips every other action.
  return request.url.includes(path) && new URL(request.url).pathname === path;
}

/**
 * Answer a session read (`GET {basePath}/session`) with Auth.js's session action, without minting
 * a CSRF token first. The response is Auth.js's: body, headers, session cookie(s).
 *
 * @example
 * ```ts
 * if (isSessionRead(request, authConfig)) return readSessionResponse(request, authConfig);
 * ```
 */
export function readSessionResponse(request: Request, config: SessionReadConfig, authUrl?: string): Promise<Response> {
  return Auth(withEnvOrigin(request, authUrl), { ...config, skipCSRFCheck });
}

/**
 * The session for a server component, as next-auth's `auth()` computes it (the session endpoint
 * for these headers, the token as `user` unless `session()` sets one), without the CSRF token.
 * `null` when signed out or on any error answer (fail closed, as next-auth does).
 *
 * @example
 * ```ts
 * const session = await readServerSession(await headers(), authConfig);
 * ```
 */
export async function readServerSession(headers: Headers, config: SessionReadConfig, authUrl?: string): Promise<Session | null> {
  // As next-auth: the forwarded protocol (Next.js sets it), else createActionURL's own default;
  // the app's AUTH_URL (passed in: the kit reads no environment) wins, as in next-auth.
  const url = createActionURL("session", headers.get("x-forwarded-proto") as string, headers, authUrl ? { AUTH_URL: authUrl } : {}, config);
  // Forwarded headers come from the client: one that reshapes the URL (a path or query in the
  // host, a URL as the protocol) could route this to another Auth.js action. Nothing but the
  // session endpoint is a session.
  if (url.pathname !== sessionPathOf(config) || url.search !== "") return null;
  const request = new Request(url, { headers: { cookie: headers.get("cookie") ?? "" } });
  const response = await Auth(request, {
    ...config,
    skipCSRFCheck,
    callbacks: {
      ...config.callbacks,
      // As next-auth's server-side session: the app's session() result, the token as `user` by default.
      async session(params) {
        const expires = params.session.expires as unknown as Date | string;
        const session = (await config.callbacks?.session?.(params)) ?? { ...params.session, expires: typeof expires === "string" ? expires : expires.toISOString() };
        const user = ("user" in params ? params.user : undefined) ?? params.token;
        return { user, ...session } as Session;
      },
    },
  });
  if (!response.ok) return null;
  return (await response.json()) as Session | null;
}
