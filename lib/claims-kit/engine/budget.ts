// The size budget's verdict on a token, applied: the kit's last word before a token is issued.
import type { Runtime } from "./compile";
import { PROTECTED_CLAIMS } from "./compile";
import { codeOf, messageOf, type Outcome } from "./errors";
import { writeMeta, META_CLAIM } from "./meta";
import { clearError, recordError, type Work } from "./work";

/** Errors of the budget are recorded under this id (`session.errors.budget`). */
export const BUDGET_ID = "budget";

/**
 * Drop or move claims as the budget decides. A token still over budget with only required claims
 * is a failure: recorded (unless signing in, where the caller refuses the sign-in) and returned,
 * so an update can be rejected whole.
 */
export async function applyBudget(rt: Runtime, w: Work, signingIn: boolean): Promise<Outcome> {
  if (!rt.budget) return { ok: true };
  let decision;
  try {
    const meta = w.meta;
    const stored = (token: Readonly<Record<string, unknown>>, lists?: { dropped: string[]; moved: string[] }) =>
      rt.stored({ ...token, [META_CLAIM]: writeMeta(lists ? { ...meta, dropped: lists.dropped.length > 0 ? lists.dropped : undefined, moved: lists.moved.length > 0 ? lists.moved : undefined } : meta) });
    decision = await rt.budget.decide({ token: w.token, stored, log: rt.log, signingIn });
  } catch (err) {
    recordError(rt, w, BUDGET_ID, "budget", codeOf(err, "plugin_failed"), messageOf(err));
    return { ok: true };
  }
  if (!decision) return { ok: true };
  const removable = (name: string) => !PROTECTED_CLAIMS.has(name) && name in w.token;
  const dropped = (decision.drop ?? []).filter(removable);
  const moved = (decision.move ?? []).filter(removable);
  for (const name of moved) w.server[name] = w.token[name];
  for (const name of [...dropped, ...moved]) delete w.token[name];
  w.meta.dropped = dropped.length > 0 ? dropped : undefined;
  // Earlier moves stay recorded (their values are still server-side) unless the claim came back.
  const stillMoved = (w.meta.moved ?? []).filter((name) => !(name in w.token) && !moved.includes(name));
  const allMoved = [...stillMoved, ...moved];
  w.meta.moved = allMoved.length > 0 ? allMoved : undefined;
  if (decision.refuse) {
    if (!signingIn) recordError(rt, w, BUDGET_ID, "budget", decision.refuse.code, decision.refuse.message);
    return { ok: false, kind: "refused", code: decision.refuse.code, detail: decision.refuse.message };
  }
  clearError(w, BUDGET_ID);
  return { ok: true };
}
