// kit.sessions.purge(): bounded tables. Sessions past their expiry are marked ended, ended sessions
// past the retention are deleted with their server-side data, and the change log, replay keys and
// security events are pruned; every step in small batches (one short statement each), looped.
import type { Runtime } from "./compile";
import { ClaimsKitError, invalidOption } from "./errors";
import type { SecurityEventLog } from "./event-log";
import { serverDataKey } from "./meta";
import type { ReplayStore, SessionRegistry } from "./ports";

const DAY = 24 * 60 * 60;

/**
 * Options of `kit.sessions.purge()`. Times in seconds.
 *
 * @example
 * ```ts
 * const options: PurgeOptions = { keepFor: 30 * 24 * 60 * 60, batchSize: 500 };
 * ```
 */
export interface PurgeOptions {
  /** How long an ended session stays (listed as "recently ended") before it is deleted. Default 30 days. */
  keepFor?: number;
  /** Rows per statement. Default 500: each statement is short, so no lock is held for long. */
  batchSize?: number;
  /** The time to purge as of (seconds since the epoch). Default: the kit's clock. */
  now?: number;
  /**
   * How long the change log keeps a change. Default 1 day: a process that was paused for longer
   * than that finds its position pruned and starts its view of the log again (every cached state
   * forgotten), which is safe.
   */
  keepChangesFor?: number;
  /** A replay store to prune of expired keys (`prismaReplayStore`). */
  replay?: ReplayStore;
  /** A security event log to prune of rows older than `keepEventsFor` (`prismaSecurityEventLog`). */
  events?: SecurityEventLog;
  /** How long security events are kept. Default 30 days. */
  keepEventsFor?: number;
}

/**
 * What one purge did: rows per step.
 *
 * @example
 * ```ts
 * const { expired, deleted } = await kit.sessions.purge();
 * ```
 */
export interface PurgeResult {
  /** Live sessions found past their expiry and marked ended (`endedBy: "expired"`). */
  expired: number;
  /** Ended sessions deleted (ended longer ago than `keepFor`). */
  deleted: number;
  /** Server-side data rows deleted: those of deleted sessions, and expired ones. */
  serverData: number;
  /** Change-log rows pruned. */
  changes: number;
  replay: number;
  events: number;
}

function unsupported(store: string, methods: string): never {
  throw new ClaimsKitError("purge_unsupported", `kit.sessions.purge: the ${store} cannot purge (it has no ${methods})`);
}

/** Run `step` until it returns less than a full batch; returns the total. */
async function drain(step: () => Promise<number>, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await step();
    total += n;
    if (n < batch) return total;
  }
}

/**
 * A session's cookie is valid until its last re-issue plus the session lifetime, and the registry
 * records `lastSeenAt` at most every `touchEvery`, reading the registry at least every
 * `verifyEvery` (or `checkEvery`): a session not seen for longer than the lifetime plus those has
 * no valid cookie left, whatever its strategy.
 */
export const expiryCutoff = (rt: Runtime, now: number): number => now - rt.sessionMaxAge - rt.fresh.touchEvery - Math.max(rt.fresh.verifyEvery, rt.fresh.checkEvery);

/** `kit.sessions.purge()`: see {@link PurgeOptions}. Checks every store before deleting anything. */
export async function purgeSessions(rt: Runtime, registry: SessionRegistry, options: PurgeOptions = {}): Promise<PurgeResult> {
  const where = "kit.sessions.purge";
  const seconds = (name: keyof PurgeOptions, fallback: number, min: number): number => {
    const value = options[name] ?? fallback;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) invalidOption(where, name, `must be a whole number${min > 0 ? `, ${min} or more` : " of seconds, 0 or more"}`);
    return value;
  };
  const keepFor = seconds("keepFor", 30 * DAY, 0);
  const batch = seconds("batchSize", 500, 1);
  const now = seconds("now", rt.now(), 0);
  const keepChangesFor = seconds("keepChangesFor", DAY, 0);
  const keepEventsFor = seconds("keepEventsFor", 30 * DAY, 0);
  const { replay, events } = options;
  const store = rt.serverStore;
  if (!registry.expire || !registry.purgeEnded) unsupported("session registry", "expire/purgeEnded");
  if (store && !store.purge) unsupported("server data store", "purge");
  if (replay && !replay.purge) unsupported("replay store", "purge");
  if (events && !events.purge) unsupported("security event log", "purge");
  const { expire, purgeEnded } = { expire: registry.expire.bind(registry), purgeEnded: registry.purgeEnded.bind(registry) };

  const result: PurgeResult = { expired: 0, deleted: 0, serverData: 0, changes: 0, replay: 0, events: 0 };
  result.expired = await drain(async () => (await expire(expiryCutoff(rt, now), now, batch)).length, batch);
  result.deleted = await drain(async () => {
    const sids = await purgeEnded(now - keepFor, batch);
    if (store && sids.length > 0) {
      const keys = sids.map(serverDataKey);
      if (store.removeMany) result.serverData += await store.removeMany(keys);
      else for (const key of keys) await store.remove(key);
    }
    return sids.length;
  }, batch);
  if (store?.purge) result.serverData += await drain(() => store.purge!(new Date(now * 1000), batch), batch);
  if (registry.purgeChanges) result.changes = await drain(() => registry.purgeChanges!(now - keepChangesFor, batch), batch);
  if (replay?.purge) result.replay = await drain(() => replay.purge!(now, batch), batch);
  if (events?.purge) result.events = await drain(() => events.purge!(now - keepEventsFor, batch), batch);
  return result;
}
