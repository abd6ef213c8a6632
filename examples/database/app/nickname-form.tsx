"use client";
import { useClaims } from "claims-kit/next/client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { AppKit } from "../kit";

/** Runs the `setNickname` intent: the name and the input's shape are checked at compile time. */
export function NicknameForm() {
  const { run } = useClaims<AppKit>();
  const router = useRouter();
  const [nickname, setNickname] = useState("");
  const [status, setStatus] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        startTransition(async () => {
          const result = await run("setNickname", { nickname });
          setStatus(result.ok ? "saved" : `refused: ${result.code}`);
          // Re-render the server component: auth() reads the session state the update just stored.
          router.refresh();
        });
      }}
    >
      <input aria-label="New nickname" value={nickname} onChange={(e) => setNickname(e.target.value)} maxLength={60} />
      <button type="submit" disabled={pending}>Save nickname</button>
      {status && <p data-testid="nickname-status">{status}</p>}
    </form>
  );
}
