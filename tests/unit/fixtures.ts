import type { JWT } from "@auth/core/jwt";
import type { JwtParams, SessionRegistry, SessionState } from "@/lib/claims-kit/plugin";
import type { KitLogger } from "@/lib/claims-kit";

/** A logger that keeps lines for assertions. */
export function memoryLogger(): KitLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/** A controllable clock (milliseconds). */
export function fakeClock(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

/** What Auth.js hands jwt() at sign-in with an adapter. */
export function signInParams(userId = "user-1") {
  const token: JWT = { sub: userId, name: "Alice", email: "alice@example.com", picture: null };
  return { token, user: { id: userId, email: "alice@example.com", name: "Alice" }, account: null, trigger: "signIn" as const };
}

export const sessionShell = (user = { name: "Alice", email: "alice@example.com", image: null }) => ({ user, expires: "2026-12-22T12:00:00.000Z" });

/** Run a kit's jwt() where the session must survive (a `null` would sign the user out). */
export async function jwt(kit: { callbacks: { jwt(p: JwtParams): Promise<JWT | null> } }, params: JwtParams): Promise<JWT> {
  const token = await kit.callbacks.jwt(params);
  if (!token) throw new Error("jwt() ended the session unexpectedly");
  return token;
}

/** A registry in memory, counting checks. */
export function fakeRegistry(): SessionRegistry & { checks: number; fail: boolean; state: Map<string, SessionState> } {
  const state = new Map<string, SessionState>();
  const r = {
    checks: 0,
    fail: false,
    state,
    async create({ sid, now }: { sid: string; now: number }) {
      state.set(sid, { revoked: false, claimsVersion: 0, epoch: "e1", lastSeenAt: now, pendingPatch: null });
      return { claimsVersion: 0, epoch: "e1" };
    },
    async check(sid: string) {
      r.checks++;
      if (r.fail) throw new Error("database unavailable");
      return state.get(sid) ?? null;
    },
    async touch(sid: string, now: number) {
      state.get(sid)!.lastSeenAt = now;
    },
    list: async () => [],
    async revoke(where: { sid: string } | { userId: string; except?: string }) {
      const s = "sid" in where ? state.get(where.sid) : undefined;
      if (!s || s.revoked) return 0;
      s.revoked = true;
      return 1;
    },
    bumpClaimsVersion: async () => {},
    async rewritePatch(where: { sid: string } | { userId: string }, next: (current: string | null) => string | null | undefined) {
      const s = "sid" in where ? state.get(where.sid) : undefined;
      const text = s && !s.revoked ? next(s.pendingPatch) : undefined;
      if (!s || text === undefined) return 0;
      s.pendingPatch = text;
      return 1;
    },
    bumpEpoch: async () => "e2",
  };
  return r;
}

/**
 * The registry two "processes" share (the database) for the registry-cache tests: states with
 * their userId, revocation by session or user, version and epoch bumps. `beforeCheck` runs inside
 * each check (to hold one while another process writes).
 */
export function sharedRegistry(beforeCheck: () => Promise<void> = async () => undefined) {
  const state = new Map<string, SessionState>();
  const calls = { check: 0 };
  const registry: SessionRegistry = {
    async create({ sid, userId, now }) {
      state.set(sid, { revoked: false, claimsVersion: 0, epoch: "e1", lastSeenAt: now, pendingPatch: null, userId });
      return { claimsVersion: 0, epoch: "e1" };
    },
    async check(sid) {
      calls.check++;
      const snapshot = state.get(sid) ? { ...state.get(sid)! } : null;
      await beforeCheck();
      return snapshot;
    },
    async touch(sid, now) {
      state.get(sid)!.lastSeenAt = now;
    },
    list: async () => [],
    async revoke(where) {
      let n = 0;
      for (const [sid, s] of state) {
        const named = "sid" in where ? sid === where.sid : "userId" in where ? s.userId === where.userId : false;
        if (named && !s.revoked) {
          s.revoked = true;
          n++;
        }
      }
      return n;
    },
    async bumpClaimsVersion(userId) {
      for (const s of state.values()) if (s.userId === userId) s.claimsVersion++;
    },
    async rewritePatch(where, next) {
      let n = 0;
      for (const [sid, s] of state) {
        if (s.revoked || ("sid" in where ? sid !== where.sid : s.userId !== where.userId)) continue;
        const text = next(s.pendingPatch);
        if (text === undefined) continue;
        s.pendingPatch = text;
        n++;
      }
      return n;
    },
    async bumpEpoch() {
      for (const s of state.values()) s.epoch = "e2";
      return "e2";
    },
  };
  return { registry, state, calls };
}
