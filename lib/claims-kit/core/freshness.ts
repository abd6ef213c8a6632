// The session registry on the request path: revocation, claims versions, offline patches, epoch.
import type { Runtime } from "./compile";
import { messageOf } from "./errors";
import type { SessionState } from "./ports";
import { applyServerPatch, loadAll } from "./hooks";
import { readMeta } from "./meta";
import { adopt, cloneWork, recordError, type Work } from "./work";


/** The registries' global epoch until the first "sign everyone out". */
const FIRST_EPOCH = "0";

/**
 * Why the registry says a session has ended (unknown, revoked, another epoch), or null when it has
 * not. A cookie without an epoch belongs to the first one: it ends when the epoch changes.
 */
function endReason(state: SessionState | null, epoch: string | undefined): string | null {
  if (!state) return "unknown session";
  if (state.revoked) return "revoked";
  return state.epoch !== (epoch ?? FIRST_EPOCH) ? "global epoch changed" : null;
}

/** A promise that rejects after `ms`, so a slow registry counts as a failing one. */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const isThenable = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> =>
  typeof (value as { then?: unknown } | null)?.then === "function";

/** Check the session against the registry. Returns false when the session must end. */
export async function checkSession(rt: Runtime, w: Work): Promise<boolean> {
  if (!rt.registry) return true;
  const sid = w.meta.sessionId;
  if (!sid) {
    // A token the registry never recorded could never be revoked: not accepted where there is one.
    rt.log.info("session ended: the token has no session id");
    return false;
  }
  const now = rt.now();
  if (w.meta.checkedAt !== undefined && now - w.meta.checkedAt < rt.fresh.checkEvery) return true;
  let state;
  try {
    const answer = rt.registry.check(sid);
    state = isThenable(answer) ? await withTimeout(Promise.resolve(answer), rt.fresh.checkTimeoutMs) : answer;
  } catch (err) {
    recordError(rt, w, "kit", "sessions", "plugin_failed", messageOf(err));
    // Fail open on a transient database error (the check runs again on the next request), for at
    // most failOpenFor since the last check that succeeded: a revoked session must not live on
    // through an outage someone can prolong (a flooded connection pool, a slow database).
    if (now - (w.meta.checkedAt ?? 0) <= rt.fresh.failOpenFor) return true;
    rt.log.warn(`session ended: the registry has not answered for more than ${rt.fresh.failOpenFor} s`);
    return false;
  }
  const ended = endReason(state, w.meta.epoch);
  if (!state || ended) {
    rt.log.info(`session ended: ${ended}`);
    return false;
  }
  w.meta.checkedAt = now;
  // The version advances only with a complete reload: a failed one is tried again next request.
  if (state.claimsVersion !== w.meta.claimsVersion && (await loadAll(rt, w, "refresh"))) w.meta.claimsVersion = state.claimsVersion;
  if (state.pendingPatch) await applyOffline(rt, w, state.pendingPatch);
  if (now - state.lastSeenAt >= rt.fresh.touchEvery) await rt.registry.touch(sid, now).catch(() => undefined);
  return true;
}

/**
 * Apply the session's offline patch, stored as `{ id, patch }` and cumulative (every change queued
 * since the last claims-version bump, merged). It is never cleared by a request: any copy of the
 * cookie whose last applied id differs (an older tab's response, a replay, a render that could
 * not save its cookie) applies it, so every copy converges on the same claims.
 */
async function applyOffline(rt: Runtime, w: Work, pending: string): Promise<void> {
  let queued: { id?: unknown; patch?: unknown } | null = null;
  try {
    queued = JSON.parse(pending) as { id?: unknown; patch?: unknown };
  } catch {
    queued = null;
  }
  const id = typeof queued?.id === "string" ? queued.id : undefined;
  if (!id || id === w.meta.offlinePatch) return;
  const next = cloneWork(w);
  const applied = await applyServerPatch(rt, next, queued?.patch);
  if (applied.ok) {
    adopt(w, next);
    w.meta.offlinePatch = id;
    return;
  }
  recordError(rt, w, "kit", "offline", applied.code, applied.detail);
  // A refusal by the rules is final; a failed dependent load is tried again on the next request.
  if (!applied.thrown) w.meta.offlinePatch = id;
}

/**
 * Whether a decoded token's session is still valid in the registry (not revoked, same epoch).
 * `true` without a registry; server helpers that read a cookie without `auth()` use it.
 */
export async function isActive(rt: Runtime, token: Readonly<Record<string, unknown>> | null | undefined): Promise<boolean> {
  if (!token) return false;
  if (!rt.registry) return true;
  const meta = readMeta(token);
  if (!meta.sessionId) return false;
  return !endReason(await rt.registry.check(meta.sessionId), meta.epoch);
}
