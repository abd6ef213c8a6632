// When a session's periodic work (a claims reload, a registry read) falls due. Each session has its
// own phase in the period, derived from its id, so sessions that signed in together do not reload
// together: every session does the work once per period, at its phase, and the work is never more
// than one period apart.

/** A session's phase in [0, 1): FNV-1a of its id (the same in every process). 0 without an id. */
export function phaseOf(sessionId: string | undefined): number {
  if (!sessionId) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) {
    hash ^= sessionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 2 ** 32;
}

/** The first moment after `last` at which work with this period and phase falls due (whole seconds, for whole-second inputs). */
export function nextDue(last: number, period: number, phase: number): number {
  const offset = Math.floor(phase * period);
  return (Math.floor((last - offset) / period) + 1) * period + offset;
}

/**
 * Whether work done at `last` is due again at `now`: once the session's next phase point after
 * `last` has passed, so at most `period` after `last` (and at least once per period). Work done in
 * this clock's future (a process whose clock is ahead, this clock stepped back) is due now: counted
 * from there it would wait the period plus the skew.
 */
export function dueAgain(last: number, now: number, period: number, phase: number): boolean {
  return last > now || now >= nextDue(last, period, phase);
}
