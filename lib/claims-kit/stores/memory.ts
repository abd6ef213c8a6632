import { mergePatch } from "../core/merge";
import type { ReplayStore, ServerDataStore } from "../core/ports";

/**
 * An in-memory store, for tests and single-process demos without a database.
 *
 * @example
 * ```ts
 * claimsKit({ serverStore: memoryServerDataStore(), plugins })
 * ```
 */
export function memoryServerDataStore(): ServerDataStore & { size(): number } {
  const rows = new Map<string, string>();
  return {
    async read(key) {
      const raw = rows.get(key);
      return raw ? (JSON.parse(raw) as Record<string, unknown>) : null;
    },
    async write(key, _userId, patch) {
      const raw = rows.get(key);
      rows.set(key, JSON.stringify(mergePatch(raw ? (JSON.parse(raw) as Record<string, unknown>) : null, patch)));
    },
    async remove(key) {
      rows.delete(key);
    },
    size: () => rows.size,
  };
}

/**
 * A {@link ReplayStore} in memory: catches replays within one process only (use
 * `prismaReplayStore` when several instances receive back-channel logouts).
 *
 * @example
 * ```ts
 * backchannelLogout(() => ({ kit, issuer, clientId, replay: memoryReplayStore() }))
 * ```
 */
export function memoryReplayStore(): ReplayStore {
  const seen = new Map<string, number>();
  return {
    async once(key, expiresAt, now) {
      for (const [k, until] of seen) if (until < now) seen.delete(k);
      if (seen.has(key)) return false;
      seen.set(key, expiresAt);
      return true;
    },
    async forget(key) {
      seen.delete(key);
    },
  };
}
