"use client";
import { signIn } from "next-auth/react";
import { useReauthOnRevokedGrant } from "@/lib/claims-kit/next/client";

/** Sends the user to sign in once when the provider revoked their grant; never loops. */
export function ReauthWatcher() {
  const { blocked, code } = useReauthOnRevokedGrant({ provider: "oidc" });
  if (!blocked) return null;
  return (
    <p className="error" data-testid="reauth-blocked">
      The identity provider refused to refresh your sign-in ({code}).{" "}
      <button type="button" onClick={() => signIn("oidc")}>Sign in again</button>
    </p>
  );
}
