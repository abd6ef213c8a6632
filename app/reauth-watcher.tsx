"use client";
import { signIn } from "next-auth/react";
import { useReauthOnRevokedGrant } from "@/lib/claims-kit/next/client";
import { describeCode } from "./ui/messages";

/** Sends the user to sign in once when the provider revoked their grant; never loops. */
export function ReauthWatcher() {
  const { blocked, code } = useReauthOnRevokedGrant({ provider: "oidc" });
  if (!blocked) return null;
  return (
    <p className="notice warn" role="alert" data-testid="reauth-blocked">
      {code ? describeCode(code) : "The identity provider refused to refresh your sign-in."}{" "}
      {/* Fire and forget: signIn() navigates away to the provider; there is nothing to wait for here. */}
      <button type="button" onClick={() => void signIn("oidc")}>Sign in again</button>{" "}
      {code && <span className="code">(code <code>{code}</code>)</span>}
    </p>
  );
}
