// What one process knows of the registry's change log: the position it has read up to, the
// sequence numbers it skipped (taken by a writer that had not committed yet), and, for each session
// and user, the last change that named it. From that it can tell, without a query, that nothing
// touched a session since a token's last check (the cold read of cachedSessionRegistry).
import type { ChangeLog, RegistryChange } from "../engine/ports";

/** How long a sequence number seen missing is waited for (PostgreSQL hands them out before commit). */
const GAP_WAIT_MS = 10_000;
/** Rows read from the log per query. */
const BATCH = 1000;
/** A jump this long is not waited for number by number: the view starts again from the log's end. */
const MAX_GAP = 10_000;

export interface LogView {
  /** Whether the log has been read once (nothing is known before). */
  readonly started: boolean;
  /** Whether it waits for skipped sequence numbers (then the log is read again soon). */
  readonly awaiting: boolean;
  /**
   * The position every change up to which this process has applied: the last sequence number read,
   * below any it is still waiting for, and below any announced change the log has not confirmed yet
   * (a cookie carries it to every process). A registry read made after this is current at it.
   */
  position(): number | null;
  /**
   * Whether this process knows that no change after `position` names the session, its user or
   * every session: it has read the log continuously since then, and waits for no change after it.
   */
  unchangedSince(position: number, sid: string, userId: string): boolean;
  /** A change this process wrote (its sequence number known): named at once, before the log is read. */
  noteOwn(change: RegistryChange): void;
  /**
   * Changes a verified feed message announced (each committed before it was sent): each is applied
   * and named at once; the view moves past those that follow on from it without a gap (hints up to
   * them are answered), and `position()` once the next read of the log confirms them. Returns
   * whether the view is then complete (nothing announced waits on a number not yet seen);
   * otherwise the log should be read. The next read checks every announced change
   * against the log (a message the log contradicts makes the view start again from its end).
   */
  push(changes: readonly RegistryChange[], apply: (change: Pick<RegistryChange, "kind" | "key">) => void): boolean;
  /** Whether announced changes wait on a number not seen yet (the log should be read if it lasts). */
  readonly behind: boolean;
  /**
   * Read what the log holds after the last position (and any awaited gap), calling `apply` for each
   * change; the first read (or one after the log was pruned past this process) starts from the
   * log's end and calls `apply` with every session forgotten.
   */
  read(apply: (change: Pick<RegistryChange, "kind" | "key">) => void, now: number): Promise<void>;
}

/**
 * A view of `changes` for one process. `maxNamed`: at most this many sessions and users remembered
 * as changed (the oldest forgotten first: a token older than what is forgotten is read from the
 * registry).
 */
export function logView(changes: ChangeLog, maxNamed: number, warn: (message: string) => void = () => undefined): LogView {
  let lastSeq: number | null = null;
  /** Every change after this is known to the view (where its history starts, what it forgot, or a skipped number it stopped waiting for). */
  let floor = 0;
  /** Skipped sequence numbers, until when they are awaited. */
  const gaps = new Map<number, number>();
  /** The last change naming each session ("s:") or user ("u:"), oldest first. */
  const named = new Map<string, number>();
  /** The last change naming every session. */
  let allAt = 0;
  /** Announced changes past a number not seen yet, by sequence number. */
  const ahead = new Map<number, RegistryChange>();
  /** Announced changes the position moved past, not yet seen in the log: what each named, and how many reads had begun when it came. */
  const unverified = new Map<number, { names: string; reads: number }>();
  /** The lowest number in `unverified` (or lower, until the next read: that only holds the position back). */
  let unverifiedLow = Infinity;
  /** The highest number noted since the view (re)started: a restart that forgets it vouches for nothing before it. */
  let topNoted = 0;
  /** Reads of the log begun. */
  let reads = 0;
  const names = (change: Pick<RegistryChange, "kind" | "key">) => `${change.kind}:${change.key}`;

  function note(change: RegistryChange): void {
    topNoted = Math.max(topNoted, change.seq);
    if (change.kind === "all") {
      allAt = Math.max(allAt, change.seq);
      return;
    }
    const key = `${change.kind === "session" ? "s" : "u"}:${change.key}`;
    const before = named.get(key);
    named.delete(key);
    named.set(key, Math.max(before ?? 0, change.seq));
    if (named.size > maxNamed) {
      const [oldest, seq] = named.entries().next().value!;
      named.delete(oldest);
      floor = Math.max(floor, seq);
    }
  }

  function restart(latest: number, apply: (change: Pick<RegistryChange, "kind" | "key">) => void, from = latest): void {
    apply({ kind: "all", key: "" });
    lastSeq = latest;
    // A change noted while the log's end was asked (announced, or this process's own write) may lie
    // past it: forgotten here, so no position before it is vouched for.
    floor = Math.max(from, topNoted);
    topNoted = 0;
    unverifiedLow = Infinity;
    gaps.clear();
    named.clear();
    allAt = 0;
    ahead.clear();
    unverified.clear();
  }

  const lowest = (seqs: Iterable<number>) => {
    let low = Infinity;
    for (const seq of seqs) if (seq < low) low = seq;
    return low;
  };
  const lowestGap = () => lowest(gaps.keys());

  return {
    get started() {
      return lastSeq !== null;
    },
    get awaiting() {
      return gaps.size > 0;
    },
    position() {
      if (lastSeq === null) return null;
      // Not past an announced change the log has not confirmed yet: a position goes into cookies
      // that every process trusts, and a message may be wrong (another app's log on the same feed).
      const known = Math.min(lastSeq, unverifiedLow - 1);
      return gaps.size > 0 ? Math.min(known, lowestGap() - 1) : known;
    },
    noteOwn(change) {
      note(change);
    },
    get behind() {
      return ahead.size > 0;
    },
    push(announced, apply) {
      if (lastSeq === null) return false;
      /** A change too far ahead to hold: every change is still applied and named, and the log must be read. */
      let overflow = false;
      for (const change of announced) {
        // Known already, unless it is a number this view waits for…
        if (change.seq <= lastSeq && !gaps.delete(change.seq)) {
          // …or one a message claimed for another change (another app's log on the same feed): both
          // are named until the next read tells which holds (and starts again).
          const claimed = unverified.get(change.seq);
          if (claimed && claimed.names !== names(change)) {
            apply(change);
            note(change);
          }
          continue;
        }
        apply(change);
        note(change);
        if (change.seq <= lastSeq) {
          unverified.set(change.seq, { names: names(change), reads });
          unverifiedLow = Math.min(unverifiedLow, change.seq);
        } else if (change.seq - lastSeq <= MAX_GAP && ahead.size < BATCH) ahead.set(change.seq, change);
        else overflow = true;
      }
      // At most MAX_GAP numbers past what the log confirmed (a log this process cannot read): then
      // they wait, bounded, for a read.
      for (let next = ahead.get(lastSeq + 1); next && unverified.size < MAX_GAP; next = ahead.get(lastSeq + 1)) {
        ahead.delete(next.seq);
        lastSeq = next.seq;
        unverified.set(next.seq, { names: names(next), reads });
        unverifiedLow = Math.min(unverifiedLow, next.seq);
      }
      // Too far ahead: what waited is dropped (applied and named already; the read brings it), so
      // the log is read at once instead of after the wait for crossed messages.
      if (overflow) ahead.clear();
      return ahead.size === 0 && !overflow;
    },
    unchangedSince(position, sid, userId) {
      if (lastSeq === null || position < floor || position > lastSeq || allAt > position) return false;
      if (gaps.size > 0 && [...gaps.keys()].some((seq) => seq > position)) return false;
      // Announced changes past a number not seen yet: that number may name it.
      if (ahead.size > 0) return false;
      return (named.get(`s:${sid}`) ?? 0) <= position && (named.get(`u:${userId}`) ?? 0) <= position;
    },
    async read(apply, now) {
      const thisRead = ++reads;
      if (lastSeq === null) {
        restart(await changes.latest(), apply);
        return;
      }
      // A number no longer awaited may still stand for a change the registry holds (an append
      // rolled back after its write, an insert committed later than the wait): the view cannot say
      // what it named, so it vouches for nothing before it (a hint from before it reads the
      // registry) and forgets what it cached (read, perhaps, before that change).
      let expired = false;
      for (const [seq, until] of gaps) {
        if (until >= now) continue;
        gaps.delete(seq);
        floor = Math.max(floor, seq);
        expired = true;
      }
      if (expired) apply({ kind: "all", key: "" });
      // Read from just below the last number seen: its row must still be there. Gone, the log went
      // back (restored from a backup, a failover that lost its last rows, a truncate that restarted
      // the numbers) or was pruned past this process: new changes may carry numbers this view takes
      // for seen ones, so it starts again from the log's end.
      const anchor = lastSeq;
      let anchored = anchor <= 0;
      // Announced changes are read again, to be checked against the log.
      let from = Math.min(gaps.size > 0 ? Math.min(lastSeq, lowestGap() - 1) : lastSeq, anchor - 1, lowest(unverified.keys()) - 1);
      let contradicted = false;
      for (let first = true; ; first = false) {
        const batch = await changes.since(from, BATCH);
        if (!anchored && (batch.length < BATCH || batch[batch.length - 1]!.seq >= anchor)) {
          anchored = true;
          if (!batch.some((change) => change.seq === anchor)) {
            // A position up to the anchor may be of the old numbering: none of them is vouched for.
            const latest = await changes.latest();
            restart(latest, apply, Math.max(latest, anchor) + 1);
            return;
          }
        }
        // A jump past the next number at the start: skipped numbers, or rows pruned past this
        // process (it slept longer than the log keeps). Pruned: start again from the log's end.
        if (first && batch.length > 0 && batch[0]!.seq > lastSeq + 1 && changes.earliest && (await changes.earliest()) > lastSeq + 1) {
          restart(await changes.latest(), apply);
          return;
        }
        for (const change of batch) {
          const claimed = unverified.get(change.seq);
          if (claimed) {
            unverified.delete(change.seq);
            if (claimed.names !== names(change)) {
              contradicted = true;
              // What the log holds is named until the view starts again (it asks the log's end first).
              apply(change);
              note(change);
            }
          }
          if (change.seq <= lastSeq && !gaps.delete(change.seq)) continue;
          if (change.seq - lastSeq > MAX_GAP) {
            restart(await changes.latest(), apply);
            return;
          }
          apply(change);
          note(change);
          for (let missing = lastSeq + 1; missing < change.seq; missing++) gaps.set(missing, now + GAP_WAIT_MS);
          if (change.seq > lastSeq) lastSeq = change.seq;
        }
        if (batch.length < BATCH) break;
        from = batch[batch.length - 1]!.seq;
      }
      for (const seq of ahead.keys()) if (seq <= lastSeq) ahead.delete(seq);
      // An announced change committed before this read began, and not in the log: the log went
      // back, or the message lied (a leaked secret). Nothing announced is trusted any longer.
      for (const [seq, claimed] of unverified) {
        if (claimed.reads >= thisRead) continue;
        contradicted = true;
        unverified.delete(seq);
      }
      unverifiedLow = lowest(unverified.keys());
      if (contradicted) {
        warn(`the change log contradicts a change the feed announced; starting again from the log's end`);
        const latest = await changes.latest();
        restart(latest, apply, Math.max(latest, lastSeq) + 1);
      }
    },
  };
}
