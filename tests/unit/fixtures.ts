import type { JWT } from "@auth/core/jwt";
import { memorySessionRegistry, type ChangeLog, type CheckHint, type JwtParams, type RegistryChange, type SessionRegistry, type SessionState } from "@/lib/claims-kit/plugin";
import type { Awaitable } from "@/lib/claims-kit/engine/types";
import type { KitLogger } from "@/lib/claims-kit";
import { feedShell } from "@/lib/claims-kit/stores/feed-core";
import { feedMessages } from "@/lib/claims-kit/stores/feed-message";

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

/**
 * The memory registry (what ships as memorySessionRegistry()), counting checks and failing them
 * while `fail` is set, as a database that is down would. Tests write to it through its own methods
 * (revoke, bumpClaimsVersion, bumpEpoch), as the app would.
 */
export function observedRegistry(inner: SessionRegistry = memorySessionRegistry()): SessionRegistry & { checks: number; fail: boolean } {
  const observed = {
    ...inner,
    checks: 0,
    fail: false,
    check(sid: string): Awaitable<SessionState | null> {
      observed.checks++;
      if (observed.fail) return Promise.reject(new Error("database unavailable"));
      return inner.check(sid);
    },
  };
  return observed;
}

/**
 * The registry two "processes" share (the database) for the registry-cache tests: the memory
 * registry, counting checks. `beforeCheck` runs inside each check, after the state was read (to
 * hold a read while another process writes).
 */
export function sharedRegistry(beforeCheck: () => Promise<void> = async () => undefined) {
  const inner = memorySessionRegistry();
  const calls = { check: 0 };
  const registry: SessionRegistry = {
    ...inner,
    async check(sid) {
      calls.check++;
      const snapshot = await inner.check(sid);
      await beforeCheck();
      return snapshot;
    },
  };
  return { registry, calls };
}

/**
 * The shared change log (a table) in memory; `down` makes reads and appends fail, as a locked
 * database would; `skip` and `prune` leave the gaps a rolled-back insert and the log's retention
 * leave; `tellsSeq: false` is a log whose append does not return the new sequence number.
 */
export function memoryChangeLog(options: { tellsSeq?: boolean } = {}): ChangeLog & { down: boolean; entries: RegistryChange[]; skip(n: number): void; prune(below: number): void } {
  const entries: RegistryChange[] = [];
  let skipped = 0;
  let pruned = 0;
  const changes = {
    down: false,
    entries,
    async append(kind: RegistryChange["kind"], key: string) {
      if (changes.down) throw new Error("database is locked");
      const seq = (entries.at(-1)?.seq ?? pruned) + 1 + skipped;
      skipped = 0;
      entries.push({ seq, kind, key });
      return options.tellsSeq === false ? undefined : seq;
    },
    /** The next append takes a number `n` past the next one (as a rolled-back insert leaves). */
    skip: (n: number) => void (skipped = n),
    /** Delete the rows below `below` (the log's retention). */
    prune(below: number) {
      const gone = entries.filter((c) => c.seq < below);
      pruned = Math.max(pruned, ...gone.map((c) => c.seq));
      entries.splice(0, gone.length);
    },
    async since(seq: number, limit: number) {
      if (changes.down) throw new Error("database is locked");
      return entries.filter((c) => c.seq > seq).slice(0, limit);
    },
    earliest: async () => entries[0]?.seq ?? 0,
    latest: async () => entries.at(-1)?.seq ?? pruned,
  };
  return changes;
}

/**
 * Settle `work` while node:test's mocked timers (`t.mock.timers`) run: the kit's save retries and
 * back-off waits pass at once, in order, instead of in real time.
 */
export async function withTimers<T>(timers: { runAll(): void }, work: Promise<T> | T): Promise<T> {
  let settled = false;
  const run = Promise.resolve(work);
  // Handled from the start: a rejection is the caller's to see, not an unhandled one.
  run.then(() => (settled = true), () => (settled = true));
  for (let rounds = 0; ; rounds++) {
    await new Promise((resolve) => setImmediate(resolve));
    if (settled) break;
    if (rounds > 10_000) throw new Error("still pending after 10 000 rounds of timers");
    timers.runAll();
  }
  return run;
}

/**
 * A pub/sub bus for change feeds (one Redis channel, one NOTIFY channel): every message sent waits
 * until `deliver` hands it to every feed on it, the sender's too. Each feed signs with `secret`
 * unless given its own (a process configured with another).
 */
export function feedBus(secret: string) {
  const receivers: Array<(message: string) => void> = [];
  const queue: string[] = [];
  return {
    /** Messages sent and not delivered yet, oldest first (take some out to deliver them out of order). */
    sent: queue,
    feed(own = secret) {
      const shell = feedShell({ sendName: "PUBLISH", messages: feedMessages(own), send: async (m) => void queue.push(m), onSubscribe: () => undefined, close: async () => undefined });
      shell.setConnected(true);
      receivers.push(shell.receive);
      return shell.feed;
    },
    deliver() {
      for (const message of queue.splice(0)) for (const receive of receivers) receive(message);
    },
    /** Put a message on the bus as if a process had sent it. */
    inject: (message: string) => void queue.push(message),
  };
}

/** The check hint a cookie carries once its session was read as `state` (what the kit seals into it). */
export function hintFrom(state: SessionState): CheckHint {
  if (state.userId === undefined || state.logPosition === undefined) throw new Error("hintFrom: the state has no userId or logPosition");
  return { userId: state.userId, claimsVersion: state.claimsVersion, epoch: state.epoch, logPosition: state.logPosition };
}
