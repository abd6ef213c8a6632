"use server";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { readToken, signIn, signOut } from "@/auth";
import { oauth } from "@/auth.config";

export async function signInAction(): Promise<void> {
  await signIn("oidc", { redirectTo: "/dashboard" });
}

/** Where the provider sends the browser back after ending its session (registered there). */
async function postLogoutUri(): Promise<string> {
  if (process.env.AUTH_OIDC_POST_LOGOUT_URI) return process.env.AUTH_OIDC_POST_LOGOUT_URI;
  if (process.env.AUTH_URL) return `${new URL(process.env.AUTH_URL).origin}/`;
  // The provider refuses any post_logout_redirect_uri it does not have registered, so a forged
  // Host header cannot send the browser elsewhere.
  const h = await headers();
  return `${h.get("x-forwarded-proto") ?? "http"}://${h.get("host")}/`;
}

/**
 * Sign out here, and at the provider too (OIDC RP-Initiated Logout) unless AUTH_OIDC_RP_LOGOUT is
 * "false": otherwise "Sign in" would log the same user straight back in, and nobody could switch
 * users.
 */
export async function signOutAction(): Promise<void> {
  const token = await readToken();
  const endSession = process.env.AUTH_OIDC_RP_LOGOUT === "false" ? null : await oauth.endSessionUrl(token, await postLogoutUri()).catch(() => null);
  await signOut({ redirect: false });
  redirect(endSession ?? "/");
}
