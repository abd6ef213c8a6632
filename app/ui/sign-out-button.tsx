"use client";
import { useFormStatus } from "react-dom";
import { signOutAction } from "@/app/actions";
import { markSigningOut } from "./session-notices";

function Submit() {
  const { pending } = useFormStatus();
  return <button type="submit" className="secondary" disabled={pending}>{pending ? "Signing out…" : "Sign out"}</button>;
}

/** Sign out (here and at the provider), showing its pending state. */
export function SignOutButton({ email }: { email: string | null | undefined }) {
  return (
    <form action={signOutAction} onSubmit={markSigningOut} className="row">
      <span className="muted" data-testid="signed-in-as">{email}</span>
      <Submit />
    </form>
  );
}
