"use client";
import { useActionState, type MouseEvent } from "react";

/** What an action answers, shown next to its button. */
export type ActionAnswer = { ok: boolean; message: string } | null;

/**
 * A button for a destructive server action: asks before acting, shows its pending state, and says
 * what happened afterwards, next to the button (an aria-live status).
 */
export function ConfirmForm({ action, confirm, label, disabled, testId }: { action: () => Promise<ActionAnswer>; confirm: string; label: string; disabled?: boolean; testId: string }) {
  const [answer, run, pending] = useActionState<ActionAnswer, FormData>(() => action(), null);
  const ask = (event: MouseEvent<HTMLButtonElement>) => {
    if (!window.confirm(confirm)) event.preventDefault();
  };
  return (
    <form action={run} className="row">
      <button type="submit" className="secondary" disabled={disabled || pending} onClick={ask}>
        {pending ? "Working…" : label}
      </button>
      <span role="status" aria-live="polite" data-testid={testId} className={answer?.ok === false ? "error" : "ok"}>
        {answer?.message}
      </span>
    </form>
  );
}
