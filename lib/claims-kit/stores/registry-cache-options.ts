// The registry cache's options, statistics and handle (./registry-cache).
import type { ChangeFeed, ChangeLog, SessionRegistry } from "../engine/ports";

/**
 * Options of `cachedSessionRegistry`.
 *
 * @example
 * ```ts
 * const options: CachedRegistryOptions = { changes: prismaChangeLog(prisma), feed: postgresChangeFeed(url) };
 * ```
 */
export interface CachedRegistryOptions {
  /** The shared change log (`prismaChangeLog(prisma)`). */
  changes: ChangeLog;
  /** What wakes this process when the log grows. Default: in-process events only. */
  feed?: ChangeFeed;
  /** How often to read the log when the feed does not reach other processes (down, or in-process only). Default 1000 ms. */
  pollMs?: number;
  /** How often to read it anyway while the feed is up (a missed notification heals). Default 5000 ms. */
  safetyPollMs?: number;
  /** A cached state is read again after this long, whatever the log says (the bound when a change could not be logged). Default 10 000 ms. */
  entryTtlMs?: number;
  /**
   * At most this many cached sessions (oldest dropped first), and as many sessions and users
   * remembered as changed (a token older than the oldest forgotten change is read from the
   * registry). Default 100 000.
   */
  maxEntries?: number;
  /** Where a failed change-log write or read is reported. Default: console.error. */
  onError?: (message: string) => void;
}

/** What the cache did, for benchmarks and tests. */
export interface RegistryCacheStats {
  hits: number;
  /** Sessions not cached here, answered from the token's hint (the log named nothing of theirs since). */
  coldHits: number;
  misses: number;
  /** Reads of the change log (the only queries a cached read path makes). */
  syncs: number;
  /** Changes a feed message announced (applied without a read of the log when they follow on). */
  announced: number;
}

/** What `cachedSessionRegistry` returns: a registry, with its statistics and controls. */
export interface CachedSessionRegistry extends SessionRegistry {
  stats(): RegistryCacheStats;
  /**
   * Read the change log now. Resolves once this process has applied every change committed before
   * the call (tests; a process that must see another's write before it goes on).
   */
  sync(): Promise<void>;
  /** Stop polling and close the change feed. */
  close(): Promise<void>;
}
