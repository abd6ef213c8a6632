"use client";
import { useSearchParams } from "next/navigation";
import { useFormStatus } from "react-dom";
import { signInAction } from "./actions";

function Submit() {
  const { pending } = useFormStatus();
  return <button type="submit" disabled={pending}>{pending ? "Signing in…" : "Sign in"}</button>;
}

/** Sign in, carrying the page the user was sent here from (checked again on the server). */
export function SignInButton() {
  const callbackUrl = useSearchParams().get("callbackUrl");
  return (
    <form action={signInAction}>
      {callbackUrl && <input type="hidden" name="callbackUrl" value={callbackUrl} />}
      <Submit />
    </form>
  );
}
