// Auth.js's database strategy: the cookie is an opaque session token, Auth.js loads the Session and
// User rows on every read and calls `session({ session, user, trigger, newSession })`; `jwt()` never
// runs. The kit keeps its side of such a session (the claims and bookkeeping a JWT-strategy cookie
// carries) with its registry row, and runs the very same pipeline on it: the same plugins, intents,
// refresh, freshness and revocation. The registry cache serves it from memory, so a steady-state
// read costs Auth.js's own lookup and nothing more.
import type { JWT } from "@auth/core/jwt";
import type { Account, Profile, Session, User } from "@auth/core/types";
import { jwt, session as clientSession } from "./callbacks";
import type { Runtime } from "./compile";
import { ClaimsKitError, invalidOption, messageOf } from "./errors";
import { endReason } from "./freshness";
import { META_CLAIM, readMeta, sessionIdOfToken, writeMeta } from "./meta";
import type { SessionRegistry } from "./ports";

/** What Auth.js hands `session()` under the database strategy. */
export interface DatabaseSessionParams {
  session: { sessionToken: string; userId: string; expires: Date | string; id?: string };
  user: { id: string; name?: string | null; email?: string | null; image?: string | null };
  trigger?: "update";
  newSession?: unknown;
}

/** Whether `session()` was called under the database strategy (Auth.js passes the user row). */
export function isDatabaseSession(params: object): params is DatabaseSessionParams {
  const p = params as Partial<DatabaseSessionParams>;
  return typeof p.user === "object" && p.user !== null && typeof p.session?.sessionToken === "string";
}

type StateRegistry = SessionRegistry & Required<Pick<SessionRegistry, "writeState">>;

function registryOf(rt: Runtime): StateRegistry {
  const registry = rt.registry;
  if (!registry?.writeState) invalidOption("claimsKit", "sessions", "is required under Auth.js's database strategy, and must keep each session's state (writeState: prismaSessionRegistry does)");
  return registry as StateRegistry;
}

/** Two states that differ only in when the registry was last checked are the same state. */
function sameState(a: string | null, b: JWT, bJson: string): boolean {
  if (a === null) return false;
  if (a === bJson) return true;
  const strip = (token: Readonly<Record<string, unknown>>) => {
    const { [META_CLAIM]: wire, ...rest } = token;
    const { c: _checkedAt, ...meta } = (wire ?? {}) as Record<string, unknown>;
    return JSON.stringify({ ...rest, [META_CLAIM]: meta });
  };
  try {
    return strip(JSON.parse(a) as Record<string, unknown>) === strip(b);
  } catch {
    return false;
  }
}

/**
 * Sign-in under the database strategy (the kit's `events.signIn`, right after the adapter created
 * the Session row): the kit's session is recorded with the Auth.js row it belongs to, every claim
 * is loaded with what the sign-in brought (the account's tokens, the id_token's auth_time, acr,
 * amr and provider session), and the state is stored. A sign-in the kit cannot record ends that
 * session row at once and is refused (the error is thrown, as under the JWT strategy).
 */
export async function databaseSignIn(rt: Runtime, created: { sessionToken: string; authSessionId: string | null }, params: { user: User; account?: Account | null; profile?: Profile; isNewUser?: boolean }): Promise<void> {
  const registry = registryOf(rt);
  const sid = await sessionIdOfToken(created.sessionToken);
  const token: JWT = { sub: params.user.id, name: params.user.name, email: params.user.email, picture: params.user.image };
  try {
    const state = await jwt(rt, { token, user: params.user, account: params.account, profile: params.profile, trigger: params.isNewUser ? "signUp" : "signIn" }, { serverSide: true, sessionId: sid, authSessionId: created.authSessionId });
    if (!state || !(await registry.writeState(sid, JSON.stringify(state), null))) throw new ClaimsKitError("plugin_failed", "the session's state could not be stored");
  } catch (err) {
    await registry.revoke({ sid }, rt.now(), "replaced").catch(() => undefined);
    throw err;
  }
}

/** How long a recorded session may be without its state (a sign-in or an adoption still running elsewhere) before it counts as ended. */
const RECORDING_SECONDS = 60;

type Stored = { stored: string | null; token: JWT };

function parsed(rt: Runtime, sid: string, state: string): Stored | null {
  try {
    return { stored: state, token: JSON.parse(state) as JWT };
  } catch {
    rt.log.warn(`session state of ${sid} is not JSON: signing the session out`);
    return null;
  }
}

/** Adoptions of unseen Session rows under way in this process, by runtime and session id: concurrent first reads share one. */
const adoptions = new WeakMap<Runtime, Map<string, Promise<Stored | null>>>();

/**
 * A Session row the kit has not seen (created before it, or by another app): recorded as a fresh
 * sign-in without the provider's details, once. Concurrent first reads in this process share the
 * adoption; one that lost the race to another process takes what that one stored.
 */
function adopt(rt: Runtime, registry: StateRegistry, sid: string, params: DatabaseSessionParams): Promise<Stored | null> {
  let running = adoptions.get(rt);
  if (!running) adoptions.set(rt, (running = new Map()));
  const existing = running.get(sid);
  if (existing) return existing;
  const work = (async () => {
    const user = params.user;
    try {
      const token = await jwt(rt, { token: { sub: user.id, name: user.name, email: user.email, picture: user.image }, user: user as User, trigger: "signIn" }, { serverSide: true, sessionId: sid, authSessionId: params.session.id ?? null });
      if (token && (await registry.writeState(sid, JSON.stringify(token), null))) return { stored: JSON.stringify(token), token };
    } catch (err) {
      rt.log.warn(`plugin_failed plugin=kit step=session.adopt: ${messageOf(err)}`);
    }
    // Another process recorded it first (or this one could not): its state, if it is stored.
    const again = await registry.check(sid);
    return again?.state && !again.revoked ? parsed(rt, sid, again.state) : null;
  })().finally(() => running.delete(sid));
  running.set(sid, work);
  return work;
}

/** The state to run on: the stored one, or (a Session row the kit has not seen) the one adopting it stores. */
async function stateOf(rt: Runtime, registry: StateRegistry, sid: string, params: DatabaseSessionParams): Promise<Stored | null> {
  const row = await registry.check(sid);
  if (row?.state) {
    const found = parsed(rt, sid, row.state);
    if (!found) return null;
    return endReason(row, readMeta(found.token).epoch) ? null : found;
  }
  if (!row) return adopt(rt, registry, sid, params);
  // Recorded without a state yet by this process's own adoption (a concurrent first read whose
  // check answered after the adoption recorded the session): its outcome.
  const adopting = adoptions.get(rt)?.get(sid);
  if (adopting) return adopting;
  // Recorded without a state yet: a sign-in or an adoption still storing it (another process's
  // first read of the same row). Not ended -- revoking it would sign the user out for good --
  // unless it has stayed so for longer than any of them takes.
  if (!row.revoked && rt.now() - row.lastSeenAt < RECORDING_SECONDS) throw new ClaimsKitError("plugin_failed", "the session is still being recorded by another request");
  return null; // revoked, or never stored: ended
}

/** Thrown when a database session has ended: Auth.js answers `null` for it (and the row is gone). */
function ended(detail: string): never {
  throw new ClaimsKitError("not_signed_in", `the session has ended: ${detail}`);
}

const WRITE_ATTEMPTS = 5;

/**
 * An update's effect on a newer state than the one it ran on: the claims it changed, and its
 * verdict; everything else (a reload or a refresh another request saved meanwhile) is the newer
 * state's. The result is only as current as the older of the two: the claims the update changed
 * were derived (a tenant's role from its membership) under its claims version, load times and
 * pending patch, so where the newer state is further on, the result keeps the update's (the lower
 * version, the earlier load, no patch applied) and the next read reloads and re-checks them, as the
 * update's own cookie would under the JWT strategy. Keeping the newer state's bookkeeping would
 * vouch for claims it never checked: a role in a tenant the user was removed from, after the
 * claims-version bump that was meant to take it away.
 */
function overlay(newer: JWT, before: JWT, after: JWT): JWT {
  const out: Record<string, unknown> = { ...newer };
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === META_CLAIM || JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    if (after[key] === undefined) delete out[key];
    else out[key] = after[key];
  }
  const mine = readMeta(after);
  const meta = readMeta(newer);
  if (mine.lastUpdate) meta.lastUpdate = mine.lastUpdate;
  meta.claimsVersion = Math.min(meta.claimsVersion ?? 0, mine.claimsVersion ?? 0);
  meta.loadedAt = Math.min(meta.loadedAt ?? 0, mine.loadedAt ?? 0);
  const plugins = new Set([...Object.keys(meta.pluginLoadedAt ?? {}), ...Object.keys(mine.pluginLoadedAt ?? {})]);
  if (plugins.size > 0) meta.pluginLoadedAt = Object.fromEntries([...plugins].map((id) => [id, Math.min(meta.pluginLoadedAt?.[id] ?? 0, mine.pluginLoadedAt?.[id] ?? 0)]));
  if (meta.offlinePatch !== mine.offlinePatch) delete meta.offlinePatch;
  out[META_CLAIM] = writeMeta(meta);
  return out as JWT;
}

/**
 * Auth.js's `session()` under the database strategy: the kit's pipeline on the session's stored
 * state (registry check, offline patches, an update intent, max-age reloads, refresh), written back
 * compare-and-set when it changed, then the client session as under the JWT strategy. A read that
 * lost a race to another writer leaves its state to the newer one (it reloads again on a later
 * read); an update that lost one is laid over the newer state, never lost and never run twice (its
 * side effects ran once). An ended session (revoked, another epoch, unknown) ends its Auth.js row
 * and reads as signed out: the kit throws, and Auth.js answers `null`.
 */
export async function databaseSession(rt: Runtime, params: DatabaseSessionParams): Promise<Session> {
  const registry = registryOf(rt);
  const sid = await sessionIdOfToken(params.session.sessionToken);
  const updating = params.trigger === "update";
  const state = await stateOf(rt, registry, sid, params);
  // The registry has just answered for the session (stateOf): the pipeline's own check fails open
  // from then on. The stored checkedAt moves only when the state is written, and a read that
  // changes nothing writes nothing: counted from there, one slow answer to that check moments later
  // fell outside failOpenFor and ended a live session for good.
  const next = state ? await jwt(rt, { token: state.token, trigger: updating ? "update" : undefined, session: params.newSession }, { serverSide: true, answeredAt: rt.now() }) : null;
  if (!state || !next) {
    // Unknown, revoked or another epoch: end the Auth.js row too, so every process reads it as signed out.
    await registry.revoke({ sid }, rt.now()).catch((err: unknown) => rt.log.warn(`plugin_failed plugin=kit step=session.end: ${messageOf(err)}`));
    ended(state ? "revoked" : "unknown session");
  }
  let saved = next;
  const nextJson = JSON.stringify(next);
  if (!sameState(state.stored, next, nextJson) && !(await registry.writeState(sid, nextJson, state.stored)) && updating) {
    for (let attempt = 1; ; attempt++) {
      const newer = await registry.check(sid);
      if (!newer?.state) ended("revoked meanwhile");
      saved = overlay(JSON.parse(newer.state) as JWT, state.token, next);
      if (await registry.writeState(sid, JSON.stringify(saved), newer.state)) break;
      if (attempt >= WRITE_ATTEMPTS) throw new ClaimsKitError("plugin_failed", `the update could not be stored: the session changed under each of ${WRITE_ATTEMPTS} attempts`);
    }
  }
  const user = { name: params.user.name, email: params.user.email, image: params.user.image };
  return clientSession(rt, { session: { user, expires: new Date(params.session.expires).toISOString() } as unknown as Session, token: saved });
}
