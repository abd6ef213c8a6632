// `trigger === "update"`: named, validated intents from the client, and server updates staged in
// this process. A rejected update leaves the work exactly as it was.
import { applyBudget } from "./budget";
import type { Runtime } from "./compile";
import { INTENT_NAME, REFRESH_INTENT, SERVER_INTENT } from "./compile";
import { ClaimsKitError, codeOf, messageOf, type KitErrorCode } from "./errors";
import { applyServerPatch, loadAll, reloadDependents, step } from "./hooks";
import { sessionIdOf } from "./meta";
import { checkServerPatch } from "./rules";
import type { Awaitable, StandardResult } from "./types";
import { withChoices, withValues } from "./patches";
import { baseContext, type Claims, cloneWork, isPlainObject, type Work } from "./work";

/** A client's correlation id: short and ASCII, so echoing it can never grow the cookie much. */
const NONCE = /^[\w-]{1,32}$/;
const STAGED_TTL_MS = 30_000;

/**
 * Record a rejected update. Only names the kit knows are recorded: a client-chosen string never
 * rides in the token (it would grow the cookie past its budget).
 */
function reject(rt: Runtime, w: Work, intent: unknown, nonce: string | undefined, code: string, detail: string): Work {
  const known = typeof intent === "string" && (intent === SERVER_INTENT || intent === REFRESH_INTENT || rt.intents.has(intent)) ? intent : "";
  w.meta.lastUpdate = { intent: known, ...(nonce ? { nonce } : {}), code };
  rt.log.warn(`update rejected: ${code}${known ? ` intent=${known}` : ""}: ${detail}`);
  return w;
}

/** What an accepted update leaves for the older copies of its cookie (see patches.ts). */
type Remember = { choices: readonly string[] } | { values: readonly string[] };

/**
 * How an update is taken: `serverSide` for a database-strategy session, whose one copy lives in
 * the registry (no cookie budget, no older copies to tell).
 */
export interface UpdateMode {
  serverSide?: boolean;
}

/** Accept an update's result: within the size budget, side effects last, or rejected whole. */
async function accept(rt: Runtime, w: Work, next: Work, intent: string, nonce: string | undefined, mode: UpdateMode, remember?: Remember, commit?: () => Awaitable<void>): Promise<Work> {
  const budget = mode.serverSide ? ({ ok: true } as const) : await applyBudget(rt, next, false);
  if (!budget.ok) return reject(rt, w, intent, nonce, budget.code, budget.detail);
  if (commit) {
    try {
      await commit();
    } catch (err) {
      return reject(rt, w, intent, nonce, codeOf(err, "plugin_failed"), `commit failed: ${messageOf(err)}`);
    }
  }
  next.meta.lastUpdate = { intent, ...(nonce ? { nonce } : {}) };
  if (remember && !mode.serverSide) await rememberForOlderCopies(rt, w, next, remember);
  return next;
}

/**
 * Record what an accepted update changed with the session in the registry, so that any older copy
 * of the cookie (a slow response that lands after this one, another tab's request) applies it too
 * on its next request: the newest state wins, an update is never rolled back. An intent leaves the
 * user's choices (re-derived where they are applied), a server update its values (with when, so a
 * later reload supersedes them). Only client claims: token-only claims (OAuth tokens in cookie
 * mode) never go to the database, and server-side claims are shared by every copy already. This
 * copy is marked as having it. Without a registry, or when recording fails, the update still
 * stands in this cookie.
 */
async function rememberForOlderCopies(rt: Runtime, w: Work, next: Work, remember: Remember): Promise<void> {
  const sid = next.meta.sessionId;
  if (!rt.registry || !sid) return;
  const names = "choices" in remember ? remember.choices : remember.values;
  // Every claim the update set, changed here or not: an older copy may hold another value (this
  // copy may have reached the same one by a reload just before the update).
  const changed: Claims = {};
  for (const name of names) if (rt.owners.get(name)?.visibility === "client") changed[name] = next.token[name] ?? null;
  if (Object.keys(changed).length === 0) return;
  let id: string | null = null;
  try {
    // Server values were derived under this copy's claims version: a bump since supersedes them.
    const written = await rt.registry.rewritePatch(
      { sid },
      (current) => {
        const merged = "choices" in remember ? withChoices(current, changed) : withValues(current, changed, rt.now());
        id = merged.id;
        return merged.text;
      },
      "values" in remember ? { claimsVersion: w.meta.claimsVersion } : undefined,
    );
    if (written > 0 && id) next.meta.offlinePatch = id;
  } catch (err) {
    rt.log.warn(`plugin_failed plugin=kit step=update.remember: ${messageOf(err)}; an older copy of this cookie could still undo the update`);
  }
}

/** A staged server update: `{ intent: "$server", nonce }`, one-time and bound to its session. */
async function serverUpdate(rt: Runtime, w: Work, nonce: string, mode: UpdateMode): Promise<Work> {
  const entry = rt.staged.get(nonce);
  // Spent only by its own session: another session presenting a leaked nonce cannot burn it.
  if (entry?.sid === w.meta.sessionId) rt.staged.delete(nonce);
  if (!entry || entry.expires < rt.clock() || typeof w.token.sub !== "string" || entry.sid !== w.meta.sessionId) {
    return reject(rt, w, SERVER_INTENT, undefined, "forbidden", "no server update staged under that nonce for this session in this process");
  }
  const next = cloneWork(w);
  const applied = await applyServerPatch(rt, next, entry.patch);
  if (!applied.ok) return reject(rt, w, SERVER_INTENT, nonce, applied.code, applied.detail);
  return accept(rt, w, next, SERVER_INTENT, nonce, mode, { values: Object.keys(entry.patch as Claims) });
}

/** Validate an intent's input with its schema; a schema that throws is `invalid_input` too. */
async function validate(schema: { "~standard": { validate(v: unknown): unknown } }, input: unknown): Promise<{ ok: true; value: unknown } | { ok: false; detail: string }> {
  let result: StandardResult<unknown>;
  try {
    result = (await schema["~standard"].validate(input)) as StandardResult<unknown>;
    if (typeof result !== "object" || result === null) throw new TypeError("the schema returned no result");
  } catch (err) {
    return { ok: false, detail: `the input schema threw: ${messageOf(err)}` };
  }
  if (!result.issues) return { ok: true, value: result.value };
  const first = result.issues[0];
  const path = (first?.path ?? []).map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".");
  return { ok: false, detail: `${path ? `${path}: ` : ""}${first?.message ?? "invalid"}` };
}

/** Handle `trigger === "update"`: returns the work to keep (the original one when rejected). */
export async function update(rt: Runtime, w: Work, data: unknown, mode: UpdateMode = {}): Promise<Work> {
  // A POST without data (upstream #11002: next-auth's update() without an argument does not even
  // POST) is a bare refresh: it only re-derives claims on the server.
  if (data === undefined) data = { intent: REFRESH_INTENT };
  if (!isPlainObject(data)) return reject(rt, w, "", undefined, "update_malformed", "update() payload must be an object { intent, input?, nonce? }");
  const extra = Object.keys(data).filter((key) => !["intent", "input", "nonce"].includes(key));
  const { intent, input, nonce } = data;
  if (intent === SERVER_INTENT && extra.length === 0 && input === undefined && typeof nonce === "string") return serverUpdate(rt, w, nonce, mode);
  const okNonce = nonce === undefined || (typeof nonce === "string" && NONCE.test(nonce));
  if (typeof intent !== "string" || !INTENT_NAME.test(intent) || extra.length > 0 || !okNonce) {
    return reject(rt, w, intent, undefined, "update_malformed", extra.length > 0 ? `${extra.length} unexpected key(s)` : "intent must be a name and nonce a short id");
  }
  const n = nonce as string | undefined;
  if (typeof w.token.sub !== "string") return reject(rt, w, intent, n, "not_signed_in", "no user on the token");
  const next = cloneWork(w);
  if (intent === REFRESH_INTENT) {
    if (input !== undefined) return reject(rt, w, intent, n, "invalid_input", "refreshClaims takes no input");
    if (!(await loadAll(rt, next, "refresh"))) return reject(rt, { ...w, meta: { ...w.meta, errors: next.meta.errors } }, intent, n, "load_failed", "a claim could not be re-loaded");
    return accept(rt, w, next, intent, n, mode);
  }
  const entry = rt.intents.get(intent);
  if (!entry) return reject(rt, w, intent, n, "unknown_intent", "no plugin declares this intent");
  const valid = await validate(entry.spec.input, input);
  if (!valid.ok) return reject(rt, w, intent, n, "invalid_input", valid.detail);
  const value = valid.value;
  const handled = await step(rt, entry.plugin, "intent", next, () => entry.spec.handle(value, baseContext(rt, next)));
  if (!handled.ok) return reject(rt, w, intent, n, handled.code, `plugin "${entry.plugin.id}": ${handled.detail}`);
  const dependents = await reloadDependents(rt, next, entry.index, new Set(handled.changed));
  if (!dependents.ok) return reject(rt, w, intent, n, dependents.code, dependents.detail);
  const commit = entry.spec.commit;
  // The handler's own claims (never what dependents derived from them), narrowed to the choices.
  const chosen = handled.set.filter((name) => !entry.spec.chooses || entry.spec.chooses.includes(name));
  return accept(rt, w, next, intent, n, mode, { choices: chosen }, commit ? () => commit(value, baseContext(rt, next)) : undefined);
}

/** For server APIs that take a patch: the claim rules, thrown at the call. */
export function assertServerPatch(rt: Runtime, patch: unknown): Claims {
  const checked = checkServerPatch(rt, patch);
  if (!checked.ok) throw new ClaimsKitError(checked.code as KitErrorCode, checked.detail);
  return patch as Claims;
}

/**
 * Stage a server update for the session of `token` and return the payload for Auth.js's
 * `unstable_update()`: a one-time random nonce, useless to a client or to any other session.
 */
export function stageServerUpdate(rt: Runtime, patch: unknown, token: Readonly<Record<string, unknown>> | null | undefined): { intent: typeof SERVER_INTENT; nonce: string } {
  assertServerPatch(rt, patch);
  const sid = sessionIdOf(token);
  if (!sid) throw new ClaimsKitError("not_signed_in", "stageServerUpdate: the token has no session id (pass the current session's decoded token)");
  const now = rt.clock();
  for (const [key, entry] of rt.staged) if (entry.expires < now) rt.staged.delete(key);
  const nonce = crypto.randomUUID().replaceAll("-", "");
  rt.staged.set(nonce, { patch, expires: now + STAGED_TTL_MS, sid });
  return { intent: SERVER_INTENT, nonce };
}
