import type { Answer } from "./messages";

/**
 * The answer to an action, next to its control, in a polite live region (screen readers announce
 * it): the message in words, the stable code beside it in small print. While the action runs it
 * says so, so the region also announces the pending state.
 */
export function Result({ answer, pending, pendingText = "Working…", testId }: { answer: Answer; pending?: boolean; pendingText?: string; testId: string }) {
  return (
    <span role="status" aria-live="polite" data-testid={testId} className={`result ${pending ? "muted" : answer?.ok === false ? "error" : "ok"}`}>
      {pending ? pendingText : answer?.message}
      {!pending && answer?.code && <span className="code"> (code <code>{answer.code}</code>)</span>}
    </span>
  );
}
