import { mergePatch } from "../core/merge";
import type { ServerDataStore } from "../core/ports";

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
