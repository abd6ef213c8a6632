"use client";
import { useActionState, type MouseEvent } from "react";
import type { Answer } from "./ui/messages";
import { Result } from "./ui/result";

/** What an action answers, shown next to its button. */
export type ActionAnswer = Answer;

/**
 * A button for a destructive server action: asks before acting, shows its pending state, and says
 * what happened afterwards, next to the button (an aria-live status).
 */
export function ConfirmForm({ action, confirm, label, disabled, testId, ariaLabel }: { action: () => Promise<ActionAnswer>; confirm: string; label: string; disabled?: boolean; testId: string; ariaLabel?: string }) {
  const [answer, run, pending] = useActionState<ActionAnswer, FormData>(() => action(), null);
  const ask = (event: MouseEvent<HTMLButtonElement>) => {
    if (!window.confirm(confirm)) event.preventDefault();
  };
  return (
    <form action={run} className="row">
      <button type="submit" className="secondary" disabled={disabled || pending} onClick={ask} aria-label={ariaLabel}>
        {pending ? "Working…" : label}
      </button>
      <Result answer={answer} pending={pending} testId={testId} />
    </form>
  );
}
