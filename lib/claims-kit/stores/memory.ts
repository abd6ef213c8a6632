import { mergePatch } from "../engine/merge";
import type { ProviderSession, ReplayStore, RevokeWhere, SecurityEventLog, SecurityEventRecord, ServerDataStore, SessionEndCause, SessionInfo, SessionRegistry } from "../engine/ports";

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
    async removeMany(keys) {
      let count = 0;
      for (const key of keys) if (rows.delete(key)) count++;
      return count;
    },
    // Nothing here expires (one process, gone at restart): the data of deleted sessions goes with them.
    purge: async () => 0,
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
    async purge(now, limit) {
      let count = 0;
      for (const [k, until] of seen) if (until < now && count < limit) count += Number(seen.delete(k));
      return count;
    },
  };
}

interface MemorySession {
  userId: string;
  userAgent: string | null;
  createdAt: number;
  lastSeenAt: number;
  revokedAt: number | null;
  endedBy: SessionEndCause | null;
  pendingPatch: string | null;
  provider: ProviderSession | null;
  state: string | null;
}

/**
 * A {@link SessionRegistry} in memory: one process, nothing kept across restarts. For tests, and
 * for a single-process demo without a database; the Prisma registry is the one to deploy. Answers
 * `check` synchronously (no timer on the request path).
 *
 * @example
 * ```ts
 * claimsKit({ sessions: memorySessionRegistry(), plugins })
 * ```
 */
export function memorySessionRegistry(): SessionRegistry {
  const sessions = new Map<string, MemorySession>();
  const versions = new Map<string, number>();
  let epoch = "0";
  const live = (where: { sid: string } | { userId: string }) =>
    [...sessions].filter(([sid, s]) => s.revokedAt === null && ("sid" in where ? sid === where.sid : s.userId === where.userId));
  const info = (sid: string, s: MemorySession): SessionInfo => ({
    sid,
    userId: s.userId,
    userAgent: s.userAgent,
    createdAt: s.createdAt,
    lastSeenAt: s.lastSeenAt,
    revokedAt: s.revokedAt,
    providerSid: s.provider?.sid ?? null,
    endedBy: s.endedBy,
  });
  const named = (s: MemorySession, sid: string, where: RevokeWhere): boolean => {
    if ("sid" in where) return sid === where.sid;
    if ("userId" in where) return s.userId === where.userId && sid !== where.except;
    const p = s.provider;
    if (!p || p.issuer !== where.issuer || (where.providerSid === undefined && where.subject === undefined)) return false;
    return (where.providerSid === undefined || p.sid === where.providerSid) && (where.subject === undefined || p.subject === where.subject);
  };
  return {
    async create({ sid, userId, userAgent, now, provider }) {
      sessions.set(sid, { userId, userAgent: userAgent ?? null, createdAt: now, lastSeenAt: now, revokedAt: null, endedBy: null, pendingPatch: null, provider: provider ?? null, state: null });
      return { claimsVersion: versions.get(userId) ?? 0, epoch };
    },
    check(sid) {
      const s = sessions.get(sid);
      if (!s) return null;
      return { revoked: s.revokedAt !== null, claimsVersion: versions.get(s.userId) ?? 0, epoch, lastSeenAt: s.lastSeenAt, pendingPatch: s.pendingPatch, userId: s.userId, state: s.state };
    },
    async touch(sid, now) {
      const s = sessions.get(sid);
      if (s) s.lastSeenAt = now;
    },
    async list(userId, options) {
      const mine = [...sessions].filter(([, s]) => s.userId === userId && (options?.ended ? s.revokedAt !== null : s.revokedAt === null));
      const sorted = options?.ended ? mine.sort(([, a], [, b]) => b.revokedAt! - a.revokedAt!).slice(0, options.limit ?? 20) : mine.sort(([, a], [, b]) => b.createdAt - a.createdAt);
      return sorted.map(([sid, s]) => info(sid, s));
    },
    async revoke(where, now, by) {
      let count = 0;
      for (const [sid, s] of sessions) {
        if (s.revokedAt !== null || !named(s, sid, where)) continue;
        s.revokedAt = now;
        s.endedBy = by ?? null;
        count++;
      }
      return count;
    },
    async findByProvider(where) {
      const found = [...sessions].filter(([sid, s]) => s.revokedAt === null && named(s, sid, where));
      return found.map(([sid, s]) => ({ sid, userId: s.userId }));
    },
    async bumpClaimsVersion(userId) {
      versions.set(userId, (versions.get(userId) ?? 0) + 1);
    },
    async rewritePatch(where, next, options) {
      let written = 0;
      for (const [, s] of live(where)) {
        if (options?.claimsVersion !== undefined && (versions.get(s.userId) ?? 0) !== options.claimsVersion) continue;
        const text = next(s.pendingPatch);
        if (text === undefined || text === s.pendingPatch) continue;
        s.pendingPatch = text;
        written++;
      }
      return written;
    },
    async bumpEpoch() {
      epoch = crypto.randomUUID();
      return epoch;
    },
    async expire(lastSeenBefore, now, limit) {
      const ended = [...sessions].filter(([, s]) => s.revokedAt === null && s.lastSeenAt < lastSeenBefore).slice(0, limit);
      for (const [, s] of ended) {
        s.revokedAt = now;
        s.endedBy = "expired";
      }
      return ended.map(([sid]) => sid);
    },
    async purgeEnded(endedBefore, limit) {
      const gone = [...sessions].filter(([, s]) => s.revokedAt !== null && s.revokedAt < endedBefore).slice(0, limit).map(([sid]) => sid);
      for (const sid of gone) sessions.delete(sid);
      return gone;
    },
    async writeState(sid, state, expected) {
      const s = sessions.get(sid);
      if (!s || s.revokedAt !== null || s.state !== expected) return false;
      s.state = state;
      return true;
    },
  };
}

/**
 * A {@link SecurityEventLog} in memory: one process, nothing kept across restarts (tests, demos).
 *
 * @example
 * ```ts
 * sharedSignals({ kit, issuer, audience, replay: memoryReplayStore(), events: memorySecurityEventLog() })
 * ```
 */
export function memorySecurityEventLog(): SecurityEventLog & { all(): SecurityEventRecord[] } {
  const rows: SecurityEventRecord[] = [];
  return {
    async record(added) {
      rows.push(...added.map((r) => ({ ...r })));
    },
    async list(userId, options) {
      return rows.filter((r) => r.userId === userId).sort((a, b) => b.receivedAt - a.receivedAt).slice(0, options?.limit ?? 20);
    },
    async latest(userId, outcome) {
      const times = rows.filter((r) => r.userId === userId && r.outcome === outcome).map((r) => r.issuedAt);
      return times.length > 0 ? Math.max(...times) : null;
    },
    async purge(before, limit) {
      const old = rows.filter((r) => r.receivedAt < before).slice(0, limit);
      for (const r of old) rows.splice(rows.indexOf(r), 1);
      return old.length;
    },
    all: () => rows.map((r) => ({ ...r })),
  };
}
