// A token from a provider (a logout token, a Security Event Token) applied once across instances,
// and never lost: its id is marked received only after its work is done. Marking first would let
// a failure between the two (the database gone mid-way, a crash) leave the id taken and every
// retry refused as a replay, with the work never done.
import { messageOf } from "../engine/errors";
import type { ReplayStore } from "../engine/ports";
import { REPLAY_MARGIN } from "./http";

/**
 * Seconds one delivery holds a token while applying it: a retry meanwhile is told to come back;
 * after a crash, or a lock the store would not release, the token is applied again this much later.
 */
export const APPLY_LEASE = 30;

/** What one delivery came to. `skipped`: the work declined to mark the token (it refused it); its answer is in `value`. */
export type Applied<T> =
  | { outcome: "done" | "skipped"; value: T }
  | { outcome: "replayed" }
  | { outcome: "busy" }
  | { outcome: "failed"; stage: "store" | "apply"; detail: string };

/**
 * Run `work` for the token named `key` unless it was received already, then mark it received until
 * `until` (seconds, REPLAY_MARGIN included by the caller). Deliveries of one token take turns through a
 * lock in the same store; the mark is looked at before the lock and again under it. `work` answers
 * `{ mark: false }` to leave the token unmarked (it refused it; a retry is judged again).
 *
 * @example
 * ```ts
 * const r = await applyOnce(replay, { key: `bcl:${iss}:${jti}`, until, now }, async () => ({ value: await revoke(), mark: true }));
 * ```
 */
export async function applyOnce<T>(replay: ReplayStore, at: { key: string; until: number; now: number }, work: () => Promise<{ value: T; mark: boolean }>): Promise<Applied<T>> {
  const { key, until, now } = at;
  const lock = `lock:${key}`;
  // A look that marks nothing: a sighting expired before it was made blocks no later once() on any
  // instance whose clock is within REPLAY_MARGIN of this one.
  const unseen = () => replay.once(key, now - REPLAY_MARGIN - 1, now);
  const release = () => replay.forget(lock).catch(() => undefined);
  try {
    if (!(await unseen())) return { outcome: "replayed" };
    if (!(await replay.once(lock, now + APPLY_LEASE, now))) return { outcome: "busy" };
    if (!(await unseen())) {
      await release();
      return { outcome: "replayed" };
    }
  } catch (err) {
    return { outcome: "failed", stage: "store", detail: `the replay store failed: ${messageOf(err)}` };
  }
  try {
    const { value, mark } = await work();
    if (mark) await replay.once(key, until, now);
    return { outcome: mark ? "done" : "skipped", value };
  } catch (err) {
    // Not marked: the sender's retry does the work again (it must be idempotent). A lock that
    // cannot be released lapses after APPLY_LEASE.
    return { outcome: "failed", stage: "apply", detail: messageOf(err) };
  } finally {
    await release();
  }
}
