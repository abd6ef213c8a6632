"use server";
import { signIn, signOut } from "../auth";

export async function signInAction(): Promise<void> {
  await signIn("oidc", { redirectTo: "/" });
}

/** Auth.js deletes the Session row; the kit's signOut event ends its registry row. */
export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/" });
}
