import type { ChangeFeed, RegistryChange } from "../engine/ports";

const IN_PROCESS = Symbol.for("claims-kit.in-process-change-feed");

/**
 * Wake-ups within this process only (one `next start`, e.g. on SQLite): other processes sharing
 * the database still learn of changes by polling the change log.
 *
 * @example
 * ```ts
 * cachedSessionRegistry(registry, { changes, feed: inProcessChangeFeed() });
 * ```
 */
export function inProcessChangeFeed(): ChangeFeed {
  // One set per process, not per module instance: Next.js loads route handlers and pages as
  // separate module graphs, so a revocation in a route handler (back-channel logout) must still
  // wake the registry cache the pages use.
  const shared = globalThis as { [IN_PROCESS]?: Set<(changes?: readonly RegistryChange[]) => void> };
  const listeners = (shared[IN_PROCESS] ??= new Set<(changes?: readonly RegistryChange[]) => void>());
  return {
    crossProcess: false,
    subscribe(onChange) {
      listeners.add(onChange);
      return () => void listeners.delete(onChange);
    },
    async publish(changes) {
      for (const listener of listeners) listener(changes);
    },
  };
}
