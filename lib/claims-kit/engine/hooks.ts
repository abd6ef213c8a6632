// Running plugin hooks: one step, whole reloads (all or nothing), and re-derivation of dependents.
import type { Runtime } from "./compile";
import { codeOf, type Failure, messageOf, type Outcome } from "./errors";
import { apply, checkServerPatch, refusal } from "./rules";
import { adopt, type Claims, clearError, cloneWork, loadContext, type LoadMemo, settle, type SignInInput, type Work } from "./work";
import type { AnyPlugin, LoadReason } from "./types";
import { dueAgain, phaseOf } from "./schedule";

const CHURN_MIN_CALLS = 20;

/** Run one plugin hook and apply its patch to `w` when the rules accept it. Records nothing. */
export async function step(rt: Runtime, plugin: AnyPlugin, hook: "load" | "jwt" | "intent", w: Work, run: () => unknown): Promise<Outcome<{ changed: string[]; set: string[] }>> {
  let patch: unknown;
  try {
    patch = await run();
  } catch (err) {
    return { ok: false, kind: "failed", code: codeOf(err, hook === "load" ? "load_failed" : "plugin_failed"), detail: messageOf(err) };
  }
  const refused = refusal(rt, plugin, patch);
  if (refused) return refused;
  const changed = patch === undefined ? [] : apply(plugin, patch as Claims, w);
  if (hook === "jwt" && rt.development) noteChurn(rt, plugin, changed);
  const set = patch === undefined ? [] : Object.keys(patch as Claims).filter((name) => (patch as Claims)[name] !== undefined);
  return { ok: true, changed, set };
}

/** In development, warn once about a claim that changes on most requests: a cookie is the wrong home for it. */
function noteChurn(rt: Runtime, plugin: AnyPlugin, changed: string[]): void {
  for (const name of Object.keys(plugin.claims)) {
    const c = rt.churn.get(name) ?? { calls: 0, changes: 0, warned: false };
    c.calls++;
    if (changed.includes(name)) c.changes++;
    rt.churn.set(name, c);
    if (!c.warned && c.calls >= CHURN_MIN_CALLS && c.changes / c.calls > 0.5) {
      c.warned = true;
      rt.log.warn(`claim "${name}" (plugin ${plugin.id}) changed on ${c.changes} of ${c.calls} requests: every change rewrites the cookie and is stale on the next request; keep it server-side`);
    }
  }
}

/**
 * A loader whose patch the claim rules refuse (a value failing its check, too big, not its claim)
 * will refuse it again on every try: its claims are cleared instead (fail closed), so the rest of
 * the reload still applies and a refusal can never freeze the other claims.
 */
function clearClaims(plugin: AnyPlugin, w: Work): string[] {
  return apply(plugin, Object.fromEntries(Object.keys(plugin.claims).map((name) => [name, null])), w);
}

/**
 * (Re)load every plugin's claims, all or nothing against transient failures: when a loader throws
 * (a database hiccup), the claims stay as they were (half-derived claims, such as a new role with
 * the old role's permission bits, are worse than stale ones), the failure is recorded, and the load
 * time is not advanced, so the next request tries again. A patch the claim rules refuse is recorded
 * and the plugin's claims are cleared (it would be refused again). At sign-in there is nothing
 * older to keep: what loaded is kept, marked as never fully loaded (`loadedAt: 0`). `byAge`: a
 * reload because the kit's max age passed, which leaves plugins with their own max age alone.
 * Returns whether the reload completed.
 */
export async function loadAll(rt: Runtime, w: Work, reason: LoadReason, input?: SignInInput, byAge = false): Promise<boolean> {
  const next = cloneWork(w);
  const failed: Array<[AnyPlugin, Failure]> = [];
  // One pass: loaders that read the same row share the read (LoadContext.once).
  const memo: LoadMemo = new Map();
  for (const plugin of rt.plugins) {
    if (!plugin.load || (byAge && plugin.maxAge !== undefined)) continue;
    const outcome = await step(rt, plugin, "load", next, () => plugin.load!(loadContext(rt, next, reason, input, memo)));
    if (outcome.ok) clearError(next, plugin.id);
    else if (outcome.kind === "failed") failed.push([plugin, outcome]);
    else {
      clearClaims(plugin, next);
      settle(rt, next, plugin, "load", outcome);
    }
  }
  if (failed.length > 0) {
    if (reason === "signIn") adopt(w, { ...next, meta: { ...next.meta, loadedAt: 0 } });
    for (const [plugin, failure] of failed) settle(rt, w, plugin, "load", failure);
    return false;
  }
  next.meta.loadedAt = rt.now();
  if (!byAge) {
    // Plugins with their own max age count from their own last load, not the kit's.
    const own = rt.plugins.filter((p) => p.load && p.maxAge !== undefined).map((p) => [p.id, next.meta.loadedAt!] as const);
    next.meta.pluginLoadedAt = own.length > 0 ? Object.fromEntries(own) : undefined;
  }
  adopt(w, next);
  return true;
}

/** Re-load claims past their max age: everything past the kit's, or single plugins past their own. */
export async function reloadStale(rt: Runtime, w: Work): Promise<void> {
  const now = rt.now();
  // Never fully loaded (a load failed at sign-in): try everything again.
  if (!w.meta.loadedAt) {
    await loadAll(rt, w, "refresh");
    return;
  }
  // Due at the session's phase in each period (schedule.ts): sessions signed in together spread out.
  const phase = phaseOf(w.meta.sessionId);
  if (rt.fresh.maxAge !== undefined && dueAgain(w.meta.loadedAt, now, rt.fresh.maxAge, phase)) await loadAll(rt, w, "refresh", undefined, true);
  for (const [index, plugin] of rt.plugins.entries()) {
    if (!plugin.load || plugin.maxAge === undefined) continue;
    if (!dueAgain(w.meta.pluginLoadedAt?.[plugin.id] ?? w.meta.loadedAt, now, plugin.maxAge, phase)) continue;
    // All or nothing, like loadAll: the plugin and what derives from it, or none of it.
    const next = cloneWork(w);
    const loaded = await step(rt, plugin, "load", next, () => plugin.load!(loadContext(rt, next, "refresh")));
    const refused = !loaded.ok && loaded.kind === "refused" ? loaded : undefined;
    const changed = loaded.ok ? loaded.changed : refused ? clearClaims(plugin, next) : [];
    const outcome = loaded.ok || refused ? await reloadDependents(rt, next, index, new Set(changed)) : loaded;
    if (!outcome.ok) {
      settle(rt, w, plugin, "load", outcome);
      continue; // its load time stays: retried on the next request
    }
    if (refused) settle(rt, next, plugin, "load", refused);
    else clearError(next, plugin.id);
    next.meta.pluginLoadedAt = { ...next.meta.pluginLoadedAt, [plugin.id]: now };
    adopt(w, next);
  }
}

/** After claims changed, re-load later plugins that derive from them. Stops at the first failure. */
export async function reloadDependents(rt: Runtime, w: Work, from: number, changed: Set<string>): Promise<Outcome> {
  for (let i = from + 1; i < rt.plugins.length; i++) {
    const plugin = rt.plugins[i]!;
    if (!plugin.load || !plugin.reloadOn?.some((c: string) => changed.has(c))) continue;
    const result = await step(rt, plugin, "load", w, () => plugin.load!(loadContext(rt, w, "dependency")));
    if (!result.ok) return { ...result, detail: `dependent plugin "${plugin.id}": ${result.detail}` };
    result.changed.forEach((c) => changed.add(c));
  }
  return { ok: true };
}

/**
 * Apply a server patch to `w` (a copy: on failure the caller drops it) and re-derive dependents.
 * Plugins in `reload` (those a user's choice in the patch belongs to) run their `load` first, as a
 * reload would: a choice is re-checked against the source of truth (the tenant's membership) and
 * what the plugin derives from it (the tenant role) comes from there, never from the patch.
 */
export async function applyServerPatch(rt: Runtime, w: Work, patch: unknown, reload: ReadonlySet<number> = new Set()): Promise<Outcome> {
  const checked = checkServerPatch(rt, patch);
  if (!checked.ok) return checked;
  const changed = new Set<string>();
  for (const [index, part] of checked.groups) apply(rt.plugins[index]!, part, w).forEach((c) => changed.add(c));
  for (const index of [...reload].sort((a, b) => a - b)) {
    const plugin = rt.plugins[index]!;
    if (!plugin.load) continue;
    const result = await step(rt, plugin, "load", w, () => plugin.load!(loadContext(rt, w, "refresh")));
    if (!result.ok) return { ...result, detail: `plugin "${plugin.id}": ${result.detail}` };
    result.changed.forEach((c) => changed.add(c));
  }
  return reloadDependents(rt, w, Math.min(...checked.groups.keys()), changed);
}
