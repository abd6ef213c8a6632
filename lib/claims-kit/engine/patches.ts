// A session's pending patch: what every copy of its cookie must pick up on its next request. Pure
// functions over the stored text; the registry stores it and rewrites it compare-and-set, and the
// request path (freshness.ts) applies it.
//
// Two kinds of entry, because they age differently:
// - choices: what the user chose through an intent (a tenant, a display name). They are never
//   values derived from server data: applying one runs the owning plugin's `load` (the tenant's
//   membership check) and its dependents. Reloads and claims-version bumps do not supersede them:
//   an older copy must never roll a choice back.
// - values: what server code set (`updateSession()`, `kit.sessions.updateOffline()`), with when.
//   A copy that loaded the claim's plugin after that time ignores the value, a completed reload
//   of the claim removes it (supersede), and a claims-version bump drops every value.
import type { Claims } from "./work";

/** A pending patch, parsed. `at` in seconds since the epoch. */
export interface PendingPatch {
  /** A new id on every rewrite: a copy that applied another id applies this one. */
  readonly id: string;
  readonly choices: Readonly<Claims>;
  readonly values: Readonly<Record<string, { readonly value: unknown; readonly at: number }>>;
}

type Wire = { id: string; c?: Claims; v?: Record<string, [unknown, number]> };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Parse the stored text. Anything malformed (or from before this format: `{ id, patch }`, whose
 * entries cannot be told apart) is no patch at all: ignoring it never grants anything.
 *
 * @example
 * ```ts
 * parsePatch('{"id":"p1","c":{"tenantId":"t2"}}')?.choices.tenantId; // "t2"
 * ```
 */
export function parsePatch(text: string | null | undefined): PendingPatch | null {
  if (!text) return null;
  let wire: unknown;
  try {
    wire = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(wire) || typeof wire.id !== "string") return null;
  const choices = isRecord(wire.c) ? wire.c : {};
  const values: Record<string, { value: unknown; at: number }> = {};
  if (isRecord(wire.v)) {
    for (const [name, entry] of Object.entries(wire.v)) {
      if (Array.isArray(entry) && entry.length === 2 && Number.isFinite(entry[1])) values[name] = { value: entry[0], at: entry[1] as number };
    }
  }
  return { id: wire.id, choices, values };
}

function serialize(choices: Claims, values: PendingPatch["values"]): { text: string | null; id: string | null } {
  const c = Object.keys(choices).length > 0 ? choices : undefined;
  const v = Object.keys(values).length > 0 ? Object.fromEntries(Object.entries(values).map(([name, e]) => [name, [e.value, e.at] as [unknown, number]])) : undefined;
  if (!c && !v) return { text: null, id: null };
  const id = crypto.randomUUID();
  return { text: JSON.stringify({ id, ...(c ? { c } : {}), ...(v ? { v } : {}) } satisfies Wire), id };
}

/** A rewrite's result: the text to store (null clears), and the new patch's id. */
export interface Rewritten {
  text: string | null;
  id: string | null;
}

/**
 * Merge an update's choices (the newest wins per claim). A choice replaces any older server value
 * of the same claim.
 *
 * @example
 * ```ts
 * const next = withChoices(stored, { tenantId: "t2" }); // next.text to store, next.id for the copy that made it
 * ```
 */
export function withChoices(current: string | null, choices: Claims): Rewritten {
  const p = parsePatch(current);
  const values = { ...p?.values };
  for (const name of Object.keys(choices)) delete values[name];
  return serialize({ ...p?.choices, ...choices }, values);
}

/**
 * Merge values set by server code at `at` (seconds). A value replaces an older choice of the same
 * claim: the server has the last word on it.
 *
 * @example
 * ```ts
 * const next = withValues(stored, { tier: "pro" }, now);
 * ```
 */
export function withValues(current: string | null, values: Claims, at: number): Rewritten {
  const p = parsePatch(current);
  const choices = { ...p?.choices };
  const merged: Record<string, { value: unknown; at: number }> = { ...p?.values };
  for (const [name, value] of Object.entries(values)) {
    delete choices[name];
    merged[name] = { value, at };
  }
  return serialize(choices, merged);
}

/**
 * Drop the values `superseded(name, at)` says a reload has replaced (all of them when omitted: a
 * claims-version bump). Choices stay. `undefined` when nothing changes (no write needed).
 *
 * @example
 * ```ts
 * withoutValues(stored, (name, at) => at < loadedAt); // after a completed reload at loadedAt
 * ```
 */
export function withoutValues(current: string | null, superseded: (name: string, at: number) => boolean = () => true): Rewritten | undefined {
  const p = parsePatch(current);
  if (!p) return current === null ? undefined : { text: null, id: null };
  const kept = Object.fromEntries(Object.entries(p.values).filter(([name, e]) => !superseded(name, e.at)));
  if (Object.keys(kept).length === Object.keys(p.values).length) return undefined;
  return serialize({ ...p.choices }, kept);
}
