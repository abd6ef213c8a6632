"use server";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { readToken, sessionActive, signIn, signOut } from "@/auth";
import { app, oauth } from "@/auth.config";
import { providerSignOutUrl } from "@/app/_lib/provider-sign-out";
import { safeReturnTo } from "@/app/_lib/return-to";

/** Sign in through the provider, then back to where the user was going (same-origin only). */
export async function signInAction(form?: FormData): Promise<void> {
  await signIn("oidc", { redirectTo: safeReturnTo(form?.get("callbackUrl")) ?? "/dashboard" });
}

/** Where the provider sends the browser back after ending its session (registered there). */
async function postLogoutUri(): Promise<string> {
  if (app.env.AUTH_OIDC_POST_LOGOUT_URI) return app.env.AUTH_OIDC_POST_LOGOUT_URI;
  if (app.env.AUTH_URL) return `${new URL(app.env.AUTH_URL).origin}/`;
  // The provider refuses any post_logout_redirect_uri it does not have registered, so a forged
  // Host header cannot send the browser elsewhere.
  const h = await headers();
  return `${h.get("x-forwarded-proto") ?? "http"}://${h.get("host")}/`;
}

/**
 * Sign out here, and at the provider too (OIDC RP-Initiated Logout) unless AUTH_OIDC_RP_LOGOUT is
 * "false": otherwise "Sign in" would log the same user straight back in, and nobody could switch
 * users. Decided before signOut() ends the session: with the id_token as a hint only while the
 * registry holds the session active, else with the client id (see app/_lib/provider-sign-out.ts).
 */
export async function signOutAction(): Promise<void> {
  const endSession = !app.env.AUTH_OIDC_RP_LOGOUT
    ? null
    : await providerSignOutUrl({ readToken, sessionActive: () => sessionActive(), endSessionUrl: (token, uri) => oauth.endSessionUrl(token, uri) }, await postLogoutUri()).catch(() => null);
  await signOut({ redirect: false });
  redirect(endSession ?? "/");
}
