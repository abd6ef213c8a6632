"use client";
import { useSearchParams } from "next/navigation";
import { signInAction } from "./actions";

/** Sign in, carrying the page the user was sent here from (checked again on the server). */
export function SignInButton() {
  const callbackUrl = useSearchParams().get("callbackUrl");
  return (
    <form action={signInAction}>
      {callbackUrl && <input type="hidden" name="callbackUrl" value={callbackUrl} />}
      <button type="submit">Sign in</button>
    </form>
  );
}
