// A short, opaque name for "what the session says", computed the same way on the server (from
// `auth()`) and in the browser (from `useSession()`), so a tab can tell whether its server tree and
// its client session show the same state. Pure and isomorphic: no React, no Node built-ins.

/** The version of "no session". */
export const SIGNED_OUT_VERSION = "out";

/** The parts of a session that make up its version: `expires` (new on every read) and the last update's verdict are left out. */
export interface VersionedSession {
  user?: unknown;
  claims?: unknown;
  errors?: unknown;
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item !== undefined) out[key] = stable(item);
  }
  return out;
}

// Two 32-bit FNV-1a lanes with different offsets: 64 bits, enough to tell two states of one
// session apart. Not a secret and not a MAC: it only names a state the tab already holds.
function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
    b = (b ^ (b >>> 15)) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/**
 * The version of a session as the app shows it: a hash of its user, claims and errors (order of
 * keys does not matter), or `"out"` when there is none. Equal versions mean the same claims; the
 * value reveals nothing a person could read. `<SessionSync version={sessionVersion(await auth())} />`
 * compares it with the browser's copy to know when its server tree is behind.
 *
 * @example
 * ```ts
 * sessionVersion(null); // "out"
 * sessionVersion({ user: { id: "u1" }, claims: { tier: "pro" } }) === sessionVersion({ claims: { tier: "pro" }, user: { id: "u1" } }); // true
 * ```
 */
export function sessionVersion(session: VersionedSession | null | undefined): string {
  if (!session) return SIGNED_OUT_VERSION;
  return `s${hash64(JSON.stringify(stable({ user: session.user ?? null, claims: session.claims ?? null, errors: session.errors ?? null })))}`;
}
