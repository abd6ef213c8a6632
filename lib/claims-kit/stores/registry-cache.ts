// The session registry without a query per request: each process keeps the states it has read
// and forgets them when the shared change log says they changed (woken by a change feed, or a poll
// of at most one query per process per interval when the feed does not reach other processes). A
// session this process has not cached is answered from its token's hint when the log says nothing
// touched it since the token's last check (a cold read), so it costs no query either.
import type { CheckHint, RegistryChange, SessionRegistry, SessionState } from "../engine/ports";
import { cacheRetention } from "./cache-retention";
import { logView } from "./log-view";
import type { CachedRegistryOptions, CachedSessionRegistry, RegistryCacheStats } from "./registry-cache-options";

/** How long announced changes wait for one of a lower number before the log is read (ms). */
const REORDER_MS = 50;

export type { CachedRegistryOptions, CachedSessionRegistry, RegistryCacheStats } from "./registry-cache-options";

/**
 * Wrap a {@link SessionRegistry} so that a session read costs no query: states are served from
 * memory while the change log says nothing touched them. Every write through the wrapper (revoke,
 * claims-version bump, offline patch, epoch bump) appends to the log and wakes the other processes;
 * they forget what changed and read it again on the next request. Revocation, claims versions and
 * the epoch stay enforced: a cached state is only served while this process has read the log
 * within the poll interval (otherwise the read goes to the registry, and its failure handling).
 *
 * @example
 * ```ts
 * sessions: cachedSessionRegistry(prismaSessionRegistry(prisma), { changes: prismaChangeLog(prisma), feed: postgresChangeFeed(url) })
 * ```
 */
export function cachedSessionRegistry(inner: SessionRegistry, options: CachedRegistryOptions): CachedSessionRegistry {
  const { changes } = options;
  const feed = options.feed;
  const pollMs = options.pollMs ?? 1000;
  const safetyPollMs = options.safetyPollMs ?? 5000;
  const entryTtlMs = options.entryTtlMs ?? 10_000;
  // A monotonic clock: a wall clock stepped back (NTP, a resumed VM) must not freeze the polling.
  const tick = () => performance.now();
  const maxEntries = options.maxEntries ?? 100_000;
  const onError = options.onError ?? ((m: string) => console.error(`[claims-kit] ${m}`));
  const cache = new Map<string, { state: SessionState; at: number }>();
  /** The cached sessions of each user, so a user's change forgets them without a scan. */
  const byUser = new Map<string, Set<string>>();
  const view = logView(changes, maxEntries, (m) => onError(`session registry cache: ${m}`));
  const stats: RegistryCacheStats = { hits: 0, coldHits: 0, misses: 0, syncs: 0, announced: 0 };
  /** When the log was last read successfully (ms). */
  let lastSync = 0;
  /** Bumped by every invalidation: a read that started before one must not fill the cache. */
  let generation = 0;
  let syncing: Promise<void> | null = null;
  /** A wake-up arrived while a sync was reading: read again when it is done. */
  let again = false;
  /** Said once per outage, not once per poll. */
  let failing = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  /** Announced changes wait on one not seen yet: the log is read if it has not come by then. */
  let reorder: ReturnType<typeof setTimeout> | undefined;
  let unsubscribe: (() => void) | undefined;
  /**
   * Changes written to the registry whose log append failed, oldest first: appended again before
   * each read of the log until the log takes them. Until then no token's hint is trusted for what
   * they name (nothing in the log says they happened); `appended`: taken by a log that does not
   * tell the number, known once the next read has passed it.
   */
  const owed: Array<{ kind: RegistryChange["kind"]; key: string; now: number; appended?: boolean }> = [];
  /** Said once per outage, not once per retry. */
  let owing = false;

  const interval = () => (feed?.crossProcess ? safetyPollMs : pollMs);

  function drop(sid: string): void {
    const entry = cache.get(sid);
    if (!entry) return;
    cache.delete(sid);
    const sids = entry.state.userId ? byUser.get(entry.state.userId) : undefined;
    sids?.delete(sid);
    if (sids?.size === 0) byUser.delete(entry.state.userId!);
  }

  function forget(change: Pick<RegistryChange, "kind" | "key">): void {
    generation++;
    if (change.kind === "all") {
      cache.clear();
      byUser.clear();
    } else if (change.kind === "session") drop(change.key);
    else for (const sid of byUser.get(change.key) ?? []) drop(sid);
  }

  function sync(): Promise<void> {
    if (syncing) {
      again = true;
      return syncing;
    }
    syncing = (async () => {
      try {
        // A read vouches for the log as of when it began; the poll's cadence counts from then too.
        let began: number;
        do {
          began = tick();
          again = false;
          stats.syncs++;
          await appendOwed();
          await view.read(forget, tick());
          for (let i = owed.length - 1; i >= 0; i--) if (owed[i]!.appended) owed.splice(i, 1);
        } while (again);
        lastSync = began;
        failing = false;
      } catch (err) {
        if (!failing) onError(`session registry cache: reading the change log failed (${err instanceof Error ? err.message : String(err)}); reads go to the registry until it works`);
        failing = true;
      } finally {
        syncing = null;
      }
    })();
    return syncing;
  }

  /** Append what the log still lacks (see `owed`), in order; stops at the first failure, left for the next read. */
  async function appendOwed(): Promise<void> {
    let appended = false;
    /** What the feed announces; a change whose number the log does not tell makes it a bare wake-up. */
    const announce: RegistryChange[] = [];
    let bare = false;
    for (const change of [...owed]) {
      if (change.appended) continue;
      let seq: number | void;
      try {
        seq = await changes.append(change.kind, change.key, change.now);
      } catch (err) {
        if (!owing) onError(`session registry cache: recording a change failed again (${err instanceof Error ? err.message : String(err)}); retried on the next read of the log`);
        owing = true;
        break;
      }
      appended = true;
      if (typeof seq === "number") {
        // Named in the view at once: no longer owed.
        view.noteOwn({ seq, kind: change.kind, key: change.key });
        owed.splice(owed.indexOf(change), 1);
        announce.push({ seq, kind: change.kind, key: change.key });
      } else {
        change.appended = true;
        bare = true;
      }
    }
    if (owed.every((c) => c.appended)) owing = false;
    if (appended) await feed?.publish(bare ? undefined : announce).catch(() => undefined);
  }

  /**
   * A feed's wake-up: the changes it announces are applied without a read of the log when they
   * follow on from what this process holds; one that waits on a change not seen yet (messages of
   * two writers crossing) is given REORDER_MS to arrive, then the log is read. A bare wake-up reads
   * the log.
   */
  function woken(announced?: readonly RegistryChange[]): void {
    if (!announced?.length) return void sync();
    stats.announced += announced.length;
    if (view.push(announced, forget)) return;
    if (!view.behind) return void sync();
    reorder ??= setTimeout(() => {
      reorder = undefined;
      if (view.behind) void sync();
    }, REORDER_MS);
    reorder.unref?.();
  }

  function start(): void {
    if (timer) return;
    unsubscribe = feed?.subscribe(woken);
    timer = setInterval(() => {
      if (tick() - lastSync >= interval() || view.awaiting || owed.length > 0) void sync();
    }, Math.min(pollMs, safetyPollMs));
    timer.unref?.();
    void sync();
  }

  /** Whether cached states may be served: the log was read recently enough. */
  const current = () => view.started && tick() - lastSync <= interval() + pollMs;

  function remember(sid: string, state: SessionState, since: number): void {
    if (!view.started || since !== generation || !state.userId) return;
    if (cache.size >= maxEntries) drop(cache.keys().next().value!);
    drop(sid);
    cache.set(sid, { state, at: tick() });
    const sids = byUser.get(state.userId) ?? new Set<string>();
    byUser.set(state.userId, sids.add(sid));
  }

  /** The session's state from the token's hint, when this process knows the log named nothing of it since. */
  function cold(sid: string, hint: CheckHint | undefined): SessionState | undefined {
    if (!hint || !current() || !view.unchangedSince(hint.logPosition, sid, hint.userId)) return undefined;
    if (owed.some((c) => c.kind === "all" || c.key === (c.kind === "session" ? sid : hint.userId))) return undefined;
    return { revoked: false, claimsVersion: hint.claimsVersion, epoch: hint.epoch, lastSeenAt: 0, pendingPatch: null, userId: hint.userId, logPosition: Math.max(hint.logPosition, view.position()!), fromHint: true };
  }

  /** After a write: forget locally at once, then tell every process through the log and the feed. */
  async function changed(kind: RegistryChange["kind"], key: string, now: number): Promise<void> {
    forget({ kind, key });
    let seq: number | void;
    try {
      seq = await changes.append(kind, key, now);
    } catch (err) {
      // Done in the database, but not in the log: owed, and appended again before every read of
      // the log until it works (other processes learn of it then; a process that dies first leaves
      // them their cached state's entryTtlMs and the kit's freshness.verifyEvery). Meanwhile this
      // process trusts no hint for what it names. The caller is told (a back-channel logout
      // answers an error, and the provider retries).
      owed.push({ kind, key, now });
      start(); // the poll retries it, also in a process that only writes
      onError(`session registry cache: recording a change failed (${err instanceof Error ? err.message : String(err)}); retried on the next read of the log`);
      throw err;
    }
    // This process must not answer a token's hint from before its own change: named at once, and
    // announced to the others (a log that cannot tell the number is read again first, and the
    // others are only woken).
    if (typeof seq === "number") view.noteOwn({ seq, kind, key });
    else await sync();
    await feed?.publish(typeof seq === "number" ? [{ seq, kind, key }] : undefined).catch(() => undefined);
  }

  return {
    async create(session) {
      start();
      // The first read of the log, once per process: a new session's state can then be cached.
      if (!view.started) await sync();
      const since = generation;
      const created = await inner.create(session);
      remember(session.sid, { revoked: false, claimsVersion: created.claimsVersion, epoch: created.epoch, lastSeenAt: session.now, pendingPatch: null, userId: session.userId }, since);
      return created;
    },
    check(sid, hint) {
      start();
      const hit = view.started ? cache.get(sid) : undefined;
      if (hit && current() && tick() - hit.at < entryTtlMs) {
        stats.hits++;
        // Answered without a promise: the request path needs no timer for a memory read.
        return { ...hit.state, logPosition: view.position()! };
      }
      const fromHint = cold(sid, hint);
      if (fromHint) {
        stats.coldHits++;
        return fromHint;
      }
      return (async () => {
        if (!view.started) await sync();
        stats.misses++;
        const since = generation;
        // Taken before the read: every change up to it was committed, so the read reflects it.
        const position = view.position();
        const state = await inner.check(sid);
        if (state) remember(sid, state, since);
        return state && position !== null ? { ...state, logPosition: position } : state;
      })();
    },
    async touch(sid, now) {
      await inner.touch(sid, now);
      const hit = cache.get(sid);
      if (hit) hit.state = { ...hit.state, lastSeenAt: now };
    },
    list: (userId, options) => inner.list(userId, options),
    async findByProvider(where) {
      if (!inner.findByProvider) throw new Error("session registry cache: the registry it wraps cannot find sessions by provider (findByProvider)");
      return inner.findByProvider(where);
    },
    async revoke(where, now, by) {
      const count = await inner.revoke(where, now, by);
      if ("sid" in where) await changed("session", where.sid, now);
      else if ("userId" in where) await changed("user", where.userId, now);
      else if (count > 0) await changed("all", "", now);
      return count;
    },
    async bumpClaimsVersion(userId) {
      await inner.bumpClaimsVersion(userId);
      await changed("user", userId, Math.floor(Date.now() / 1000));
    },
    async rewritePatch(where, next, options) {
      const kind = "sid" in where ? "session" : "user";
      const key = "sid" in where ? where.sid : where.userId;
      let written: number;
      try {
        written = await inner.rewritePatch(where, next, options);
      } catch (err) {
        // A user's rewrite may fail on one session after writing others: those must not be served
        // from a stale cache in other processes until their entries expire.
        if (kind === "user") await changed(kind, key, Math.floor(Date.now() / 1000)).catch(() => undefined);
        throw err;
      }
      if (written > 0) await changed(kind, key, Math.floor(Date.now() / 1000));
      return written;
    },
    async writeState(sid, state, expected) {
      if (!inner.writeState) throw new Error("session registry cache: the registry it wraps cannot store database-strategy state (writeState)");
      const written = await inner.writeState(sid, state, expected);
      // Written or not, this process's copy is stale (another writer won): read it again.
      if (written) await changed("session", sid, Math.floor(Date.now() / 1000));
      else forget({ kind: "session", key: sid });
      return written;
    },
    async bumpEpoch() {
      const epoch = await inner.bumpEpoch();
      await changed("all", "", Math.floor(Date.now() / 1000));
      return epoch;
    },
    ...cacheRetention(inner, changes, (sid) => forget({ kind: "session", key: sid })),
    stats: () => ({ ...stats }),
    async sync() {
      start();
      // A read already under way reads once more after it (sync's `again`), so this one covers the call.
      await sync();
    },
    async close() {
      if (timer) clearInterval(timer);
      clearTimeout(reorder);
      timer = undefined;
      unsubscribe?.();
      await feed?.close?.();
    },
  };
}
