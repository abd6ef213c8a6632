// Where "Sign out" sends the browser after signOut(): the provider's end-session endpoint (OIDC
// RP-Initiated Logout). Next-free, so the integration tests run the same decision as the action.
import type { TokenView } from "@/lib/claims-kit/plugin";

/**
 * What the decision reads, bound in app/actions.ts to the request's session and the OAuth plugin.
 *
 * @example
 * ```ts
 * const deps: ProviderSignOutDeps = { readToken, sessionActive: () => sessionActive(), endSessionUrl: (t, u) => oauth.endSessionUrl(t, u) };
 * ```
 */
export interface ProviderSignOutDeps {
  /** The session cookie's token (`readToken()`): it decodes whether or not the session still exists. */
  readToken(): Promise<TokenView | null>;
  /** Whether the registry holds this request's session active (`sessionActive()`). */
  sessionActive(): Promise<boolean>;
  /** `oauth.endSessionUrl`: with `id_token_hint` for a token, with `client_id` for none. */
  endSessionUrl(token: TokenView | null, postLogoutRedirectUri: string): Promise<string | null>;
}

/**
 * The provider's end-session URL for this request's sign-out, or null when it has none. The
 * `id_token_hint` (the account's current id_token, from the vault) goes only to a session the
 * registry holds active: the cookie of a session that already ended (signed out everywhere from
 * another device, revoked by an admin or the provider, a stolen copy) still decodes, and would
 * otherwise be handed the account's newest id_token and let the provider end the user's current
 * provider session without asking. Such a sign-out sends `client_id` instead; the provider asks.
 *
 * @example
 * ```ts
 * const url = await providerSignOutUrl({ readToken, sessionActive, endSessionUrl: (t, u) => oauth.endSessionUrl(t, u) }, "http://localhost:3000/");
 * ```
 */
export async function providerSignOutUrl(deps: ProviderSignOutDeps, postLogoutRedirectUri: string): Promise<string | null> {
  const [token, active] = await Promise.all([deps.readToken(), deps.sessionActive()]);
  return deps.endSessionUrl(token && active ? token : null, postLogoutRedirectUri);
}
