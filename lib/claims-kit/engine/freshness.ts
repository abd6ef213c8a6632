// The session registry on the request path: revocation, claims versions, offline patches, epoch.
import type { Runtime } from "./compile";
import { messageOf } from "./errors";
import type { CheckHint, SessionState } from "./ports";
import { applyServerPatch, loadAll } from "./hooks";
import { readMeta } from "./meta";
import { dueAgain, phaseOf } from "./schedule";
import { checkServerPatch } from "./rules";
import { parsePatch, type PendingPatch, withoutValues } from "./patches";
import { adopt, type Claims, cloneWork, recordError, type Work } from "./work";


/** The registries' global epoch until the first "sign everyone out". */
const FIRST_EPOCH = "0";

/**
 * Why the registry says a session has ended (unknown, revoked, another epoch), or null when it has
 * not. A cookie without an epoch belongs to the first one: it ends when the epoch changes.
 */
export function endReason(state: SessionState | null, epoch: string | undefined): string | null {
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

/**
 * What the token says its session's state was at its last check, for a registry cache to answer
 * from (see `CheckHint`); none when the registry itself is due to be read: `freshness.verifyEvery`
 * since it last answered, or a claims reload due now (it reads the database anyway, so the
 * registry is read in the same moment).
 */
function hintOf(rt: Runtime, w: Work, now: number): CheckHint | undefined {
  const { logPosition, verifiedAt, loadedAt, sessionId } = w.meta;
  if (logPosition === undefined || verifiedAt === undefined || typeof w.token.sub !== "string") return undefined;
  const phase = phaseOf(sessionId);
  if (dueAgain(verifiedAt, now, rt.fresh.verifyEvery, phase)) return undefined;
  if (rt.fresh.maxAge !== undefined && loadedAt && dueAgain(loadedAt, now, rt.fresh.maxAge, phase)) return undefined;
  return { userId: w.token.sub, claimsVersion: w.meta.claimsVersion ?? 0, epoch: w.meta.epoch ?? FIRST_EPOCH, logPosition };
}

/**
 * Check the session against the registry. Returns false when the session must end; otherwise the
 * pending patch the registry holds for it (null when none, or when the check was skipped).
 * `hints`: pass the token's hint and keep the answer's log position on the token (a cookie; not a
 * database-strategy state, which is read from the registry on every request anyway). `answeredAt`:
 * when the registry last answered for the session outside this check (the database strategy's
 * read of the state, which ended a revoked one already).
 */
export async function checkSession(rt: Runtime, w: Work, hints = true, answeredAt?: number): Promise<false | { pending: PendingPatch | null }> {
  if (!rt.registry) return { pending: null };
  const sid = w.meta.sessionId;
  if (!sid) {
    // A token the registry never recorded could never be revoked: not accepted where there is one.
    rt.log.info("session ended: the token has no session id");
    return false;
  }
  const now = rt.now();
  // A check in this clock's future (another process's clock ahead, this one stepped back) says
  // nothing about how recent it is: checked now.
  const checkedAt = w.meta.checkedAt;
  if (checkedAt !== undefined && checkedAt <= now && now - checkedAt < rt.fresh.checkEvery) return { pending: null };
  let state;
  try {
    const answer = rt.registry.check(sid, hints ? hintOf(rt, w, now) : undefined);
    state = isThenable(answer) ? await withTimeout(Promise.resolve(answer), rt.fresh.checkTimeoutMs) : answer;
  } catch (err) {
    recordError(rt, w, "kit", "sessions", "plugin_failed", messageOf(err));
    // Fail open on a transient database error (the check runs again on the next request), for at
    // most failOpenFor since the last check that succeeded: a revoked session must not live on
    // through an outage someone can prolong (a flooded connection pool, a slow database).
    if (now - Math.max(w.meta.checkedAt ?? 0, answeredAt ?? 0) <= rt.fresh.failOpenFor) return { pending: null };
    rt.log.warn(`session ended: the registry has not answered for more than ${rt.fresh.failOpenFor} s`);
    return false;
  }
  const ended = endReason(state, w.meta.epoch);
  if (!state || ended) {
    rt.log.info(`session ended: ${ended}`);
    return false;
  }
  w.meta.checkedAt = now;
  if (state.fromHint) {
    // The token's own state, confirmed by the change log: nothing to reload, apply or record.
    w.meta.logPosition = state.logPosition;
    return { pending: null };
  }
  if (hints) w.meta.verifiedAt = now;
  // The version advances only with a complete reload: a failed one is tried again next request.
  if (state.claimsVersion !== w.meta.claimsVersion && (await loadAll(rt, w, "refresh"))) w.meta.claimsVersion = state.claimsVersion;
  const pending = parsePatch(state.pendingPatch);
  if (pending) await applyPending(rt, w, pending);
  if (now - state.lastSeenAt >= rt.fresh.touchEvery) await rt.registry.touch(sid, now).catch(() => undefined);
  // A later check may be answered from this token only while it holds everything the registry
  // said: the claims of this version and the pending patch applied (a failed reload or patch is
  // retried against the registry on the next request).
  const current = state.claimsVersion === w.meta.claimsVersion && (!pending || w.meta.offlinePatch === pending.id);
  w.meta.logPosition = hints && current ? state.logPosition : undefined;
  return { pending };
}

/**
 * Whether this copy loaded the plugin owning `name` after `at` (seconds): then a server value set
 * at `at` is older than what the copy holds. A plugin without `load` never reloads its claims.
 */
export function loadedSince(rt: Runtime, w: Work, name: string, at: number): boolean {
  const owner = rt.owners.get(name);
  const plugin = owner ? rt.plugins[owner.index] : undefined;
  if (!plugin?.load) return false;
  const last = w.meta.pluginLoadedAt?.[plugin.id] ?? w.meta.loadedAt;
  return last !== undefined && last > at;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * Apply the session's pending patch to this copy (see patches.ts): server values it has not
 * loaded past, and the user's choices it does not hold yet, each choice re-derived by its plugin's
 * `load` (the tenant's membership check) with the dependents after it. The patch is never
 * cleared by a request: any copy whose last applied id differs (an older tab's response, a
 * replay, a render that could not save its cookie) applies it, so every copy converges.
 */
async function applyPending(rt: Runtime, w: Work, pending: PendingPatch): Promise<void> {
  if (pending.id === w.meta.offlinePatch) return;
  const patch: Claims = {};
  const owners = new Set<number>();
  // Entry by entry: one the claim rules refuse (queued for a claim a later deploy removed, or whose
  // check it tightened) is skipped, never a reason to refuse the user's other choices with it.
  const allowed = ([name, value]: readonly [string, unknown]) => {
    if (checkServerPatch(rt, { [name]: value }).ok) return true;
    rt.log.warn(`kit: ignored the pending patch's entry for "${name}": the claim rules refuse it`);
    return false;
  };
  for (const [name, e] of Object.entries(pending.values)) if (!loadedSince(rt, w, name, e.at) && allowed([name, e.value])) patch[name] = e.value;
  const choices = Object.entries(pending.choices).filter(allowed);
  // A choice this copy already holds needs nothing, unless something else is applied: a queued
  // value may have been derived under an earlier choice (a tenant role set with another tenant),
  // so every choice's plugin re-derives its claims after the values, as where the choice was made.
  if (Object.keys(patch).length > 0 || choices.some(([name, value]) => !same(value, w.token[name]))) {
    for (const [name, value] of choices) {
      patch[name] = value;
      owners.add(rt.owners.get(name)!.index);
    }
  }
  const next = cloneWork(w);
  const applied = Object.keys(patch).length === 0 ? ({ ok: true } as const) : await applyServerPatch(rt, next, patch, owners);
  if (applied.ok) {
    adopt(w, next);
    w.meta.offlinePatch = pending.id;
    return;
  }
  recordError(rt, w, "kit", "offline", applied.code, applied.detail);
  // A refusal by the rules is final; a failed load is tried again on the next request.
  if (applied.kind === "refused") w.meta.offlinePatch = pending.id;
}

/**
 * After the request's reloads: server values of the pending patch that a completed reload of
 * their claim has replaced are removed from the registry, so no older copy applies them again.
 */
export async function supersedeValues(rt: Runtime, w: Work, pending: PendingPatch | null): Promise<void> {
  const sid = w.meta.sessionId;
  if (!rt.registry || !sid || !pending) return;
  if (!Object.entries(pending.values).some(([name, e]) => loadedSince(rt, w, name, e.at))) return;
  let id: string | null | undefined;
  try {
    await rt.registry.rewritePatch({ sid }, (current) => {
      const next = withoutValues(current, (name, at) => loadedSince(rt, w, name, at));
      id = next?.id;
      return next?.text;
    });
  } catch (err) {
    rt.log.warn(`plugin_failed plugin=kit step=supersede: ${messageOf(err)}`);
    return;
  }
  // This copy holds everything the rewritten patch still says, if it held the one before.
  if (id && w.meta.offlinePatch === pending.id) w.meta.offlinePatch = id;
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
