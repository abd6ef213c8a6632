import "server-only";
import { cache } from "react";
import { cookies, headers } from "next/headers";
import { getToken, type JWT } from "next-auth/jwt";
import type { ClaimsKit, SessionOf, TokenOf, ServerDataOf } from "../core/compose";
import type { AnyPlugin, KitSession, PatchOf, RequestInfo } from "../core/types";
import type { AccessTokenInfo, OAuthRefreshPlugin } from "../plugins/oauth-refresh";

/**
 * Type `auth()` with the kit's session, inferred from its plugins (no module augmentation), and
 * memoise it per server render.
 *
 * @example
 * ```ts
 * const nextAuth = NextAuth({ callbacks: kit.callbacks, ... });
 * export const auth = typedAuth(kit, nextAuth.auth);
 * const session = await auth(); // session.claims.role is typed
 * ```
 */
export function typedAuth<P extends readonly AnyPlugin[]>(
  _kit: ClaimsKit<P>,
  auth: () => Promise<unknown>,
): () => Promise<SessionOf<ClaimsKit<P>> | null> {
  // One jwt() run (and so one session check) per server render, however many components ask.
  return cache(async () => (await auth()) as SessionOf<ClaimsKit<P>> | null);
}

const SESSION_COOKIE = "authjs.session-token";

/** Decode this request's session cookie once per request (server only). */
const decodeCookie = cache(async (): Promise<JWT | null> => {
  const jar = await cookies();
  const secure = jar.getAll().some((c) => c.name.startsWith(`__Secure-${SESSION_COOKIE}`));
  const secret = process.env.AUTH_SECRET;
  if (!secret) return null;
  return getToken({ req: { headers: await headers() }, secret, secureCookie: secure });
});

/**
 * `requestInfo` for `claimsKit()` in a Next.js app: the sign-in request's user agent (for the
 * sessions list) and the session token the browser already had, so that a re-sign-in ends the
 * previous session instead of leaving a copy of its cookie valid.
 *
 * @example
 * ```ts
 * claimsKit({ sessions: prismaSessionRegistry(prisma), requestInfo: nextRequestInfo(), plugins })
 * ```
 */
export function nextRequestInfo(): () => Promise<RequestInfo> {
  return async () => ({ userAgent: (await headers()).get("user-agent"), previousToken: await decodeCookie() });
}

/**
 * The decoded session token, token-only claims included, for server components, route handlers
 * and server actions. Never pass it to a client component. It does not consult the session
 * registry: call `auth()` (or `kit.isActive`) first where revocation matters.
 *
 * @example
 * ```ts
 * const token = await readToken(kit);
 * if (token?.tenantId) ...
 * ```
 */
export async function readToken<P extends readonly AnyPlugin[]>(kit: ClaimsKit<P>): Promise<TokenOf<ClaimsKit<P>> | null> {
  const token = await decodeCookie();
  return (token ? kit.expand(token) : null) as TokenOf<ClaimsKit<P>> | null;
}

/**
 * The current session's server-side claims (the values kept out of the cookie).
 *
 * @example
 * ```ts
 * const { tenants } = await readServerData(kit);
 * ```
 */
export async function readServerData<P extends readonly AnyPlugin[]>(kit: ClaimsKit<P>): Promise<Partial<ServerDataOf<ClaimsKit<P>>>> {
  const token = await decodeCookie();
  // A revoked session's cookie still decodes: check the registry before handing out its data.
  return (await kit.isActive(token)) ? kit.readServerData(token) : {};
}

/**
 * Change the current session's claims from server code (a server action or route handler), the
 * equivalent of SuperTokens' `mergeIntoAccessTokenPayload`: any declared claim, `null` deletes,
 * protected claims refused. The new cookie is set on this response, so the very next server or
 * client read sees the change. Pass Auth.js's `unstable_update` from your `NextAuth()` call.
 *
 * @example
 * ```ts
 * "use server";
 * const credits = await spendCredit(userId);
 * await updateSession(kit, unstable_update, { credits });
 * ```
 */
export async function updateSession<P extends readonly AnyPlugin[]>(
  kit: ClaimsKit<P>,
  // Auth.js types the payload as a partial Session; ours is the staged-update envelope.
  update: (data: never) => Promise<unknown>,
  patch: PatchOf<P>,
): Promise<{ ok: true } | { ok: false; code: string }> {
  // Bound to this request's session: the nonce is useless to any other.
  const payload = kit.stageServerUpdate(patch, await decodeCookie());
  const session = (await update(payload as never)) as KitSession | null;
  if (!session) return { ok: false, code: "not_signed_in" };
  if (session.update?.nonce !== payload.nonce) return { ok: false, code: "no_response" };
  return session.update.code ? { ok: false, code: session.update.code } : { ok: true };
}

/**
 * The signed-in user's OAuth access token, for server components, route handlers and server
 * actions; refreshed first when due (in vault mode the refresh is persisted in the database, so
 * nothing depends on this response setting a cookie). Never pass it to a client component.
 *
 * @example
 * ```ts
 * const info = await getAccessToken(kit, oauth);
 * if (info) await fetch(api, { headers: { authorization: `Bearer ${info.accessToken}` } });
 * ```
 */
export async function getAccessToken<P extends readonly AnyPlugin[]>(kit: ClaimsKit<P>, plugin: OAuthRefreshPlugin): Promise<AccessTokenInfo | null> {
  const token = await readToken(kit);
  // A revoked session's cookie still decodes: no provider token for it.
  return (await kit.isActive(token)) ? plugin.accessToken(token) : null;
}
