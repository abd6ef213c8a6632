"use client";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import type { AppKit } from "@/auth.config";
import { useClaims } from "@/lib/claims-kit/next/client";
import { downgradeTier, spendCredit, upgradeTier } from "./actions";

export function AccountControls() {
  const { session, run } = useClaims<AppKit>();
  const router = useRouter();
  const [name, setName] = useState("");
  const [status, setStatus] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function act(label: string, work: () => Promise<{ ok: boolean; code?: string }>) {
    startTransition(async () => {
      const result = await work();
      setStatus(result.ok ? `${label}: ok` : `${label}: ${result.code}`);
      router.refresh();
    });
  }

  return (
    <>
      <h2>Display name</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          act("display name", () => run("setDisplayName", { displayName: name }));
        }}
      >
        <input aria-label="New display name" value={name} onChange={(e) => setName(e.target.value)} maxLength={80} />
        <button type="submit" disabled={pending}>Save</button>
      </form>

      <h2>Tier</h2>
      <div className="row">
        {session?.claims.tier === "pro" ? (
          <button disabled={pending} onClick={() => act("downgrade", async () => { await downgradeTier(); return run("refreshClaims"); })}>Downgrade to free</button>
        ) : (
          <button disabled={pending} onClick={() => act("upgrade", async () => { await upgradeTier(); return run("refreshClaims"); })}>Upgrade to pro</button>
        )}
        <span className="muted">The action changes the database; the page then asks for a claims refresh.</span>
      </div>

      <h2>Credits</h2>
      <div className="row">
        <button disabled={pending} onClick={() => act("spend", () => spendCredit())}>Spend 1 credit</button>
        <span className="muted">The server computes the new balance and writes it into the session.</span>
      </div>
      {status && <p data-testid="account-status">{status}</p>}
    </>
  );
}
