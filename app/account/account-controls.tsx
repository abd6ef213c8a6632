"use client";
import { useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import type { AppKit } from "@/auth.config";
import { useClaims } from "@/lib/claims-kit/next/client";
import { answerOf, describeCode, type Answer } from "@/app/ui/messages";
import { Result } from "@/app/ui/result";
import { displayNameProblem } from "./display-name-rules";
import { downgradeTier, spendCredit, upgradeTier } from "./actions";

/** One control's action: its own pending state and its own answer. */
function useAction() {
  const router = useRouter();
  const [answer, setAnswer] = useState<Answer>(null);
  const [pending, startTransition] = useTransition();
  const run = (work: () => Promise<Answer>) =>
    startTransition(async () => {
      setAnswer(await work());
      router.refresh();
    });
  return { answer, pending, run };
}

export function AccountControls() {
  const { session, run } = useClaims<AppKit>();
  const [name, setName] = useState("");
  const nameId = useId();
  const displayName = useAction();
  const tier = useAction();
  const credits = useAction();
  const pro = session?.claims.tier === "pro";

  return (
    <>
      <section aria-labelledby="display-name-heading">
        <h2 id="display-name-heading">Display name</h2>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            displayName.run(async () => {
              const result = await run("setDisplayName", { displayName: name });
              // The server answers invalid_input only: say which rule, as the schema words it.
              return answerOf(result, `Display name saved: ${name.trim()}.`, (code) => (code === "invalid_input" ? displayNameProblem(name) ?? describeCode(code) : describeCode(code)));
            });
          }}
        >
          <label htmlFor={nameId}>New display name</label>
          <input id={nameId} value={name} onChange={(e) => setName(e.target.value)} maxLength={80} autoComplete="nickname" />
          <button type="submit" disabled={displayName.pending}>{displayName.pending ? "Saving…" : "Save"}</button>
          <Result answer={displayName.answer} pending={displayName.pending} pendingText="Saving…" testId="display-name-result" />
        </form>
        <p className="muted">Sent as the <code>setDisplayName</code> intent: the server validates it with the intent&apos;s schema and saves it only once the new claim is accepted.</p>
      </section>

      <section aria-labelledby="tier-heading">
        <h2 id="tier-heading">Tier</h2>
        <div className="row">
          <button
            type="button"
            disabled={tier.pending}
            onClick={() =>
              tier.run(async () => {
                const saved = await (pro ? downgradeTier() : upgradeTier());
                if (!saved.ok) return answerOf(saved, "");
                return answerOf(await run("refreshClaims"), pro ? "Downgraded to free: the session says free now." : "Upgraded to pro: the session says pro now.");
              })
            }
          >
            {tier.pending ? "Changing…" : pro ? "Downgrade to free" : "Upgrade to pro"}
          </button>
          <Result answer={tier.answer} pending={tier.pending} pendingText="Changing the tier…" testId="tier-result" />
        </div>
        <p className="muted">The action changes the database only; the page then asks for a claims refresh (<code>refreshClaims</code>).</p>
      </section>

      <section aria-labelledby="credits-heading">
        <h2 id="credits-heading">Credits</h2>
        <div className="row">
          <button
            type="button"
            disabled={credits.pending}
            onClick={() =>
              credits.run(async () => {
                const result = await spendCredit();
                return answerOf(result, result.ok ? `Spent 1 credit: ${result.credits} left.` : "");
              })
            }
          >
            {credits.pending ? "Spending…" : "Spend 1 credit"}
          </button>
          <Result answer={credits.answer} pending={credits.pending} pendingText="Spending…" testId="credits-result" />
        </div>
        <p className="muted">The server computes the new balance and writes it into the session (<code>updateSession()</code>): the browser never sends a number.</p>
      </section>
    </>
  );
}
