// The two Auth.js callbacks and the sign-out event, composed from the steps in the other files.
import type { JWT } from "@auth/core/jwt";
import type { Account, Profile, Session, User } from "@auth/core/types";
import { applyBudget } from "./budget";
import type { Runtime } from "./compile";
import { ClaimsKitError, messageOf } from "./errors";
import { checkSession, supersedeValues } from "./freshness";
import { loadAll, reloadStale, step } from "./hooks";
import { META_CLAIM, readMeta, serverDataKey, sessionIdOf, sessionIdOfToken, writeMeta } from "./meta";
import { authClaimsOf, providerSessionOf } from "./auth-claims";
import type { KitSession } from "./types";
import { update } from "./updates";
import { baseContext, clearError, recordError, settle, type Work } from "./work";

/** The arguments Auth.js passes to `jwt()`. */
export interface JwtParams {
  token: JWT;
  user?: User | null;
  account?: Account | null;
  profile?: Profile;
  trigger?: "signIn" | "signUp" | "update";
  isNewUser?: boolean;
  session?: unknown;
}

/** The arguments Auth.js passes to `session()` with the JWT strategy. */
export interface SessionParams {
  session: Session;
  token: JWT;
}

/** 128 random bits, base64url (22 characters): a session id that costs the cookie less than a UUID. */
function compactId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function without(token: Readonly<Record<string, unknown>>, names: readonly string[]): Record<string, unknown> {
  const out = { ...token };
  for (const name of names) delete out[name];
  return out;
}

/** Auth.js's default claims it may set to null (`picture` without a profile image): no bytes for nothing. */
function withoutNulls(token: Record<string, unknown>): Record<string, unknown> {
  const out = { ...token };
  for (const name of ["name", "email", "picture"]) if (out[name] === null) delete out[name];
  return out;
}

/**
 * Sign-in: a new session id, the browser's previous session ended, every claim loaded. What the
 * id_token says about the authentication (auth_time, acr, amr) is kept as protected claims, and
 * the provider session it belongs to is recorded with the session (for back-channel logout).
 */
async function signIn(rt: Runtime, w: Work, params: JwtParams, mode: JwtMode): Promise<void> {
  w.meta = { sessionId: mode.sessionId ?? compactId() };
  if (rt.issuer) w.token.iss = rt.issuer;
  const profile = params.profile as Readonly<Record<string, unknown>> | undefined;
  Object.assign(w.token, authClaimsOf(profile));
  const info = await Promise.resolve(rt.hooks.requestInfo?.()).catch(() => undefined);
  // Its cookie is being replaced: a copy of it must not stay valid.
  const previous = info?.previousSessionId ?? sessionIdOf(info?.previousToken);
  // Not the session being recorded: a database session the kit adopts on its first read (a row
  // from before the kit) arrives with its own token in the cookie.
  if (rt.registry && previous && previous !== w.meta.sessionId) {
    await rt.registry.revoke({ sid: previous }, rt.now(), "replaced").catch((err: unknown) => rt.log.warn(`plugin_failed plugin=kit step=signIn.revokePrevious: ${messageOf(err)}`));
  }
  if (rt.registry && typeof w.token.sub === "string") {
    // Recorded (and the claims version read) before the loads, so a bump during them is not missed.
    // A sign-in the registry cannot record would be a session it can never check: fail the sign-in.
    const created = await rt.registry.create({ sid: w.meta.sessionId!, userId: w.token.sub, userAgent: info?.userAgent ?? null, now: rt.now(), provider: providerSessionOf(profile), authSessionId: mode.authSessionId });
    w.meta.claimsVersion = created.claimsVersion;
    w.meta.epoch = created.epoch;
    w.meta.checkedAt = rt.now();
  }
  await loadAll(rt, w, "signIn", params);
}

/** Every plugin's `jwt` hook, in order. A failure the plugin keeps reporting is recorded (and logged) once. */
async function runJwtHooks(rt: Runtime, w: Work, trigger: JwtParams["trigger"]): Promise<void> {
  for (const plugin of rt.plugins) {
    if (!plugin.jwt) continue;
    let reported: { code: string; detail: string } | undefined;
    const report = (code: string, detail: string) => void (reported = { code, detail });
    const outcome = await step(rt, plugin, "jwt", w, () => plugin.jwt!({ ...baseContext(rt, w), trigger, report }));
    if (!outcome.ok) settle(rt, w, plugin, "jwt", outcome);
    else if (!reported) clearError(w, plugin.id);
    else if (w.meta.errors?.[plugin.id]?.code !== reported.code) recordError(rt, w, plugin.id, "jwt", reported.code, reported.detail);
  }
}

/** Auth.js's `jwt()` callback. Resolves to `null` (sign-out) only for an ended session. */
/**
 * How a `jwt()` run is used. `serverSide`: the token is the kit's side of a database-strategy
 * session, kept in the registry, not a cookie: one copy, no size budget, nothing to leave for older
 * copies. `sessionId` / `authSessionId`: a database-strategy sign-in names its session itself.
 */
export interface JwtMode {
  serverSide?: boolean;
  /** When the registry last answered for the session outside this run (the database strategy's read of the state): the fail-open window counts from it too. */
  answeredAt?: number;
  sessionId?: string;
  authSessionId?: string | null;
}

export async function jwt(rt: Runtime, params: JwtParams, mode: JwtMode = {}): Promise<JWT | null> {
  const signingIn = (params.trigger === "signIn" || params.trigger === "signUp") && !!params.user;
  try {
    // At sign-in Auth.js fills name/email/picture from the user row or the provider's profile. A
    // claim stored under one of those names starts without that value: only its plugin's load
    // (checked like every patch) may set it, never the profile unchecked.
    const incoming = rt.expand(signingIn && rt.takenOver.length > 0 ? without(params.token, rt.takenOver) : params.token);
    let w: Work = { token: incoming, meta: readMeta(incoming), server: {} };
    delete w.token[META_CLAIM];
    if (signingIn) await signIn(rt, w, params, mode);
    else {
      const checked = await checkSession(rt, w, !mode.serverSide, mode.answeredAt);
      if (!checked) return null;
      if (params.trigger === "update") w = await update(rt, w, params.session, { serverSide: mode.serverSide });
      await reloadStale(rt, w);
      await supersedeValues(rt, w, checked.pending);
    }
    await runJwtHooks(rt, w, params.trigger);
    // The size budget is the cookie's: a database-strategy session's claims stay in the registry.
    const budget = mode.serverSide ? ({ ok: true } as const) : await applyBudget(rt, w, signingIn);
    // At sign-in a token over budget with only required claims refuses the sign-in (a throw).
    if (!budget.ok && signingIn) throw new ClaimsKitError(budget.code, budget.detail);
    const sid = w.meta.sessionId;
    if (Object.keys(w.server).length > 0 && rt.serverStore && sid && typeof w.token.sub === "string") {
      try {
        await rt.serverStore.write(serverDataKey(sid), w.token.sub, w.server, new Date((rt.now() + rt.sessionMaxAge) * 1000));
      } catch (err) {
        recordError(rt, w, "kit", "serverStore", "plugin_failed", messageOf(err));
      }
    }
    return rt.stored({ ...withoutNulls(w.token), [META_CLAIM]: writeMeta(w.meta) }) as JWT;
  } catch (err) {
    // At sign-in a throw refuses the sign-in, as intended. After it, a throw would sign the user
    // out (Auth.js clears the cookie): keep the token as it came, with the failure recorded.
    if (signingIn) throw err;
    rt.log.error(`plugin_failed plugin=kit step=jwt: unexpected ${messageOf(err)}`);
    const meta = readMeta(params.token);
    meta.errors = { ...meta.errors, kit: { code: "plugin_failed", at: rt.now() } };
    return { ...params.token, [META_CLAIM]: writeMeta(meta) } as JWT;
  }
}

/** Auth.js's `session()` callback: the client claims, errors and the last update's verdict. */
export async function session(rt: Runtime, { session: shell, token: raw }: SessionParams): Promise<Session> {
  const token = rt.expand(raw);
  const claims: Record<string, unknown> = {};
  for (const name of rt.clientClaims) if (token[name] !== undefined) claims[name] = token[name];
  const meta = readMeta(token);
  const movedClient = (meta.moved ?? []).filter((name) => rt.owners.get(name)?.visibility === "client");
  if (movedClient.length > 0 && rt.serverStore && meta.sessionId) {
    // Moved by the size budget: still part of the session, read back from server-side data.
    const data = await rt.serverStore.read(serverDataKey(meta.sessionId)).catch(() => null);
    for (const name of movedClient) if (data?.[name] !== undefined && data[name] !== null) claims[name] = data[name];
  }
  const out: KitSession = { user: { ...shell.user, id: typeof token.sub === "string" ? token.sub : "" }, expires: shell.expires, claims };
  if (meta.errors) out.errors = Object.fromEntries(Object.entries(meta.errors).map(([id, e]) => [id, e.code]));
  const u = meta.lastUpdate;
  if (u) out.update = { intent: u.intent, ...(u.nonce ? { nonce: u.nonce } : {}), ...(u.code ? { code: u.code } : {}) };
  return out as unknown as Session;
}

/** Auth.js's `signOut` event: the session is revoked first, then its server-side data dropped. */
export async function signOut(rt: Runtime, message: { token?: JWT | null } | { session?: unknown }): Promise<void> {
  // The JWT strategy passes the token; the database strategy the Session row (its token hashed is the kit's id).
  const row = "session" in message ? (message.session as { sessionToken?: unknown } | null | undefined) : undefined;
  const id = "token" in message ? sessionIdOf(message.token) : typeof row?.sessionToken === "string" ? await sessionIdOfToken(row.sessionToken) : undefined;
  if (!id) return;
  // Revoke first and on its own: a copied cookie must stop working even if cleanup fails.
  for (const [label, run] of [
    ["revoke", () => rt.registry?.revoke({ sid: id }, rt.now(), "user")],
    ["serverStore", () => rt.serverStore?.remove(serverDataKey(id))],
  ] as const) {
    try {
      await run();
    } catch (err) {
      rt.log.warn(`plugin_failed plugin=kit step=signOut.${label}: ${messageOf(err)}`);
    }
  }
}
