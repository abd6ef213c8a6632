// The retention methods of cachedSessionRegistry (kit.sessions.purge), apart so the cache's own file
// keeps to the read path. Present only where the wrapped registry and the change log have them, so
// purge() can tell, before it deletes anything, that a store cannot purge.
import type { ChangeLog, SessionRegistry } from "../engine/ports";

/**
 * `expire` and `purgeEnded` of the wrapped registry, and `purgeChanges` over the change log. Nothing
 * is appended to the log: an expired session has no valid cookie left, and a deleted one had ended
 * (its end was logged, or it expired), so no process can be serving it past the cache's entry
 * lifetime; this process forgets what it cached of them at once.
 */
export function cacheRetention(inner: SessionRegistry, changes: ChangeLog, forget: (sid: string) => void): Pick<SessionRegistry, "expire" | "purgeEnded" | "purgeChanges"> {
  const { expire, purgeEnded } = inner;
  const purge = changes.purge?.bind(changes);
  return {
    ...(expire
      ? {
          async expire(lastSeenBefore: number, now: number, limit: number) {
            const sids = await expire.call(inner, lastSeenBefore, now, limit);
            for (const sid of sids) forget(sid);
            return sids;
          },
        }
      : {}),
    ...(purgeEnded
      ? {
          async purgeEnded(endedBefore: number, limit: number) {
            const sids = await purgeEnded.call(inner, endedBefore, limit);
            for (const sid of sids) forget(sid);
            return sids;
          },
        }
      : {}),
    ...(purge ? { purgeChanges: (before: number, limit: number) => purge(before, limit) } : {}),
  };
}
