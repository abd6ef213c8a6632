// The kit's bookkeeping on the token: named fields in code, short keys in the cookie (claim `_k`).
// The format is private to the kit: decoded once when a token comes in, encoded once when it goes out.
import type { KitErrorRecord } from "./errors";

/** The claim that carries the bookkeeping (protected: no plugin may write it). */
export const META_CLAIM = "_k";

/** What the kit keeps about a session on its token. Times are seconds since the epoch. */
export interface SessionMeta {
  /** Made at sign-in: the key for server-side data and the session registry. */
  sessionId?: string;
  /** Request-time failures per plugin id. */
  errors?: Record<string, KitErrorRecord>;
  /** Outcome of the last update: the intent (only names the kit knows), the client's nonce, the code when rejected. */
  lastUpdate?: { intent: string; nonce?: string; code?: string };
  /** When every claim was last loaded; 0 when a load failed at sign-in (never fully loaded). */
  loadedAt?: number;
  /** When plugins with their own `maxAge` were last loaded, by plugin id. */
  pluginLoadedAt?: Record<string, number>;
  /** The user's claims version these claims were loaded at. */
  claimsVersion?: number;
  /** The global epoch at sign-in. */
  epoch?: string;
  /** When the session was last checked against the registry. */
  checkedAt?: number;
  /** When the registry itself last answered for the session (not from the token's hint). */
  verifiedAt?: number;
  /** The change-log position the session's state was current at, at its last check (a {@link CheckHint}). */
  logPosition?: number;
  /** Id of the last offline patch applied to this token. */
  offlinePatch?: string;
  /** Claims the size budget dropped from this token. */
  dropped?: string[];
  /** Claims the size budget moved to server-side data. */
  moved?: string[];
}

type Wire = {
  sid?: string;
  e?: Record<string, KitErrorRecord>;
  u?: { i: string; n?: string; c?: string };
  l?: number;
  lp?: Record<string, number>;
  v?: number;
  ep?: string;
  c?: number;
  r?: number;
  q?: number;
  op?: string;
  d?: string[];
  m?: string[];
};

const FIELDS = [
  ["sessionId", "sid"],
  ["errors", "e"],
  ["lastUpdate", "u"],
  ["loadedAt", "l"],
  ["pluginLoadedAt", "lp"],
  ["claimsVersion", "v"],
  ["epoch", "ep"],
  ["checkedAt", "c"],
  ["verifiedAt", "r"],
  ["logPosition", "q"],
  ["offlinePatch", "op"],
  ["dropped", "d"],
  ["moved", "m"],
] as const satisfies ReadonlyArray<readonly [keyof SessionMeta, keyof Wire]>;

/** A user's claims version until it first changes: not worth the cookie's bytes. */
const DEFAULT_VERSION = 0;

/** The bookkeeping of a decoded token (`{}` when none or malformed). */
export function readMeta(token: Readonly<Record<string, unknown>> | null | undefined): SessionMeta {
  const wire = token?.[META_CLAIM];
  if (typeof wire !== "object" || wire === null || Array.isArray(wire)) return {};
  const meta: Record<string, unknown> = {};
  for (const [name, key] of FIELDS) {
    const value = (wire as Record<string, unknown>)[key];
    if (value !== undefined) meta[name] = value;
  }
  // A registry session's claims version is left out of the cookie at 0. (The epoch is always
  // written: a kit from before this one skips the epoch check for a cookie without it.)
  if (meta.sessionId !== undefined) meta.claimsVersion ??= DEFAULT_VERSION;
  const u = (wire as Wire).u;
  if (u && typeof u === "object") meta.lastUpdate = { intent: String(u.i ?? ""), ...(u.n !== undefined ? { nonce: u.n } : {}), ...(u.c !== undefined ? { code: u.c } : {}) };
  return meta as SessionMeta;
}

/** The wire form of the bookkeeping; fields without a value are left out. */
export function writeMeta(meta: SessionMeta): Wire {
  const wire: Record<string, unknown> = {};
  for (const [name, key] of FIELDS) if (meta[name] !== undefined) wire[key] = meta[name];
  if (meta.sessionId !== undefined && wire.v === DEFAULT_VERSION) delete wire.v;
  const u = meta.lastUpdate;
  if (u) wire.u = { i: u.intent, ...(u.nonce !== undefined ? { n: u.nonce } : {}), ...(u.code !== undefined ? { c: u.code } : {}) };
  return wire as Wire;
}

/** The session id of a decoded token. */
export const sessionIdOf = (token: Readonly<Record<string, unknown>> | null | undefined): string | undefined => {
  const id = readMeta(token).sessionId;
  return typeof id === "string" ? id : undefined;
};

/** The server-side data key of a session. */
export const serverDataKey = (sessionId: string): string => `s:${sessionId}`;

/**
 * The kit's id of a database session: a hash of Auth.js's session token (a bearer credential the
 * kit never stores), 128 bits in base64url, the size of a JWT-strategy session id.
 *
 * @example
 * ```ts
 * const sid = await sessionIdOfToken(session.sessionToken);
 * ```
 */
export async function sessionIdOfToken(sessionToken: string): Promise<string> {
  const known = sessionIds.get(sessionToken);
  if (known !== undefined) return known;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sessionToken)));
  const sid = btoa(String.fromCharCode(...digest.subarray(0, 16))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  // Every read of a session hashes its token again: remember the last few thousand (a hash is a
  // pure function of the token, so a remembered one is never stale; the map is dropped when full).
  if (sessionIds.size >= SESSION_IDS_KEPT) sessionIds.clear();
  sessionIds.set(sessionToken, sid);
  return sid;
}

const SESSION_IDS_KEPT = 4096;
const sessionIds = new Map<string, string>();
