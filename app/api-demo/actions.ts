"use server";
import { signIn } from "@/auth";
import { linkProviders } from "@/auth.config";

/** Link a second provider to the signed-in user: its sign-in, then back to the Provider API page. */
export async function linkProviderAction(formData: FormData): Promise<void> {
  const provider = String(formData.get("provider") ?? "");
  // Only the providers the app lets users link: anything else would be a plain sign-in elsewhere.
  if (!linkProviders.includes(provider)) throw new Error(`not a linkable provider: ${provider}`);
  await signIn(provider, { redirectTo: "/api-demo" });
}
