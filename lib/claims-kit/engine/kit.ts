// claimsKit(): compile the options once, then hand Auth.js its callbacks.
import type { Adapter } from "@auth/core/adapters";
import type { JWT } from "@auth/core/jwt";
import type { Account, Profile, Session, User } from "@auth/core/types";
import { databaseSession, databaseSignIn, isDatabaseSession, type DatabaseSessionParams } from "./database";
import { jwt, session, signOut, type JwtParams, type SessionParams } from "./callbacks";
import { compile, REFRESH_INTENT, type ClaimsKitOptions } from "./compile";
import { invalidOption } from "./errors";
import { isActive } from "./freshness";
import { serverDataKey, sessionIdOf, sessionIdOfToken } from "./meta";
import { withoutValues, withValues } from "./patches";
import type { SessionEndCause, SessionInfo, SessionRegistry } from "./ports";
import type { AnyPlugin, Awaitable, ClientClaimsOf, ErrorsOf, IntentsOf, KitSession, KitToken, PatchOf, RequestInfo, ServerClaimsOf, Visibility } from "./types";
import { purgeSessions, type PurgeOptions, type PurgeResult } from "./retention";
import { assertServerPatch, stageServerUpdate } from "./updates";

/** What `claimsKit()` returns: the callbacks and events for `NextAuth()`, and session management. */
export interface ClaimsKit<P extends readonly AnyPlugin[]> {
  /** Pass to `NextAuth({ callbacks: { ...kit.callbacks } })`. */
  readonly callbacks: {
    /** Resolves to `null` (Auth.js then signs the user out) only for a revoked or unknown session. */
    jwt(params: JwtParams): Promise<JWT | null>;
    /** Either strategy: the JWT one (`{ session, token }`) or the database one (`{ session, user, trigger, newSession }`). */
    session(params: SessionParams | DatabaseSessionParams): Promise<Session>;
  };
  /**
   * Pass to `NextAuth({ events: { ...kit.events } })`: sign-out revokes the session and drops its
   * server-side data; under the database strategy, sign-in records the kit's side of the new
   * session (with the adapter wrapped by {@link ClaimsKit.adapter}).
   */
  readonly events: {
    signIn(message: { user: User; account?: Account | null; profile?: Profile; isNewUser?: boolean }): Promise<void>;
    signOut(message: { token?: JWT | null } | { session?: unknown }): Promise<void>;
  };
  /**
   * Under Auth.js's database strategy: wrap the adapter so that the kit learns of each Session row
   * it creates (`nextClaimsKit()` does it for you), and server helpers hand out a session's state
   * only while the adapter's `getSessionAndUser` still finds it unexpired. The adapter is otherwise
   * unchanged.
   */
  adapter<A extends Adapter>(adapter: A): A;
  /** Every declared claim: owner plugin and visibility (for inspectors). */
  readonly claims: ReadonlyMap<string, { plugin: string; visibility: Visibility }>;
  /** Intent names and the plugin that owns each (`refreshClaims` belongs to the kit). */
  readonly intents: ReadonlyMap<string, string>;
  /** Sessions and freshness, for server code. Throws `invalid_option` when no `sessions` registry is set. */
  readonly sessions: {
    list(userId: string): Promise<SessionInfo[]>;
    /** The user's most recently ended sessions (with who ended them), newest first. */
    listEnded(userId: string, options?: { limit?: number }): Promise<SessionInfo[]>;
    /** Sign one session out on its next request; `by` records who ended it (Sessions pages show it). */
    revoke(sid: string, options?: { by?: SessionEndCause }): Promise<number>;
    /** Sign out all of a user's sessions, optionally except one (e.g. the current). */
    revokeAll(userId: string, options?: { except?: string; by?: SessionEndCause }): Promise<number>;
    /**
     * End what the identity provider ended (OIDC back-channel logout): the sessions signed in
     * through its session `sid` (and of `subject`, when both are given), or every session of the
     * provider `subject`. Recorded as ended by `"provider"`.
     */
    revokeByProvider(where: { issuer: string; sid?: string; subject?: string }): Promise<number>;
    /** The live sessions a provider session `sid` (and `subject`, when both are given) or a provider `subject` names, with their users. */
    listByProvider(where: { issuer: string; sid?: string; subject?: string }): Promise<Array<{ sid: string; userId: string }>>;
    /** Make every session of the user reload all its claims on its next request (a claims-version bump). */
    reloadClaims(userId: string): Promise<void>;
    /**
     * Change claims of a user who may not be making a request: every live session (and every copy
     * of its cookie) picks the change up on its next request. Same rules as online updates:
     * declared claims only, checks applied, `null` deletes.
     */
    updateOffline(userId: string, patch: PatchOf<P>): Promise<number>;
    /** Invalidate every session at once (secret rotation, incident). */
    bumpEpoch(): Promise<string>;
    /**
     * Retention, run now and then (a timer, a cron job): marks sessions unused past their lifetime
     * as ended (`endedBy: "expired"`), deletes sessions ended longer ago than `keepFor` (30 days)
     * with their server-side data, and prunes the change log (and the replay store and event log
     * given), in batches of `batchSize` (500) rows per statement. Throws `purge_unsupported`
     * (before deleting anything) when a store lacks the optional retention methods.
     */
    purge(options?: PurgeOptions): Promise<PurgeResult>;
  };
  /** Type carrier for `SessionOf`/`TokenOf`/`IntentsOfKit`; never set at run time. */
  readonly "~types"?: { plugins: P };
}

/** The token a kit produces (server side: `readToken(kit)`). */
export type TokenOf<K> = K extends ClaimsKit<infer P> ? KitToken<P> : never;
/** The session `auth()` and `useSession()` return for a kit: typed claims, errors per plugin. */
export type SessionOf<K> = K extends ClaimsKit<infer P> ? KitSession<ClientClaimsOf<P>, ErrorsOf<P>> : never;
/** Intent name -> the input the client sends, for a kit. */
export type IntentsOfKit<K> = K extends ClaimsKit<infer P> ? IntentsOf<P> : never;
/** Server-side data of a kit (`readServerData(kit)`). */
export type ServerDataOf<K> = K extends ClaimsKit<infer P> ? ServerClaimsOf<P> : never;
/** A patch of a kit's claims (`updateSession(kit, …)`). */
export type PatchOfKit<K> = K extends ClaimsKit<infer P> ? PatchOf<P> : never;

/** What the framework helpers (next/server and its internal helpers) need from a kit; not part of the public API. */
export interface KitInternals {
  expand(token: Readonly<Record<string, unknown>>): Record<string, unknown>;
  sessionId(token: Readonly<Record<string, unknown>> | null | undefined): string | undefined;
  isActive(token: Readonly<Record<string, unknown>> | null | undefined): Promise<boolean>;
  stageServerUpdate(patch: unknown, token: Readonly<Record<string, unknown>> | null | undefined): { intent: string; nonce: string };
  readServerData(token: Readonly<Record<string, unknown>> | null | undefined): Promise<Record<string, unknown>>;
  /** A framework helper's `requestInfo`, used unless the kit's options gave one. */
  supplyRequestInfo(requestInfo: () => Awaitable<RequestInfo>): void;
  /** Under the database strategy: the kit's side of the session a session token names (stored form), null when unknown or ended, or when Auth.js no longer holds it (expired, its row deleted). */
  stateOfSessionToken(sessionToken: string): Promise<Record<string, unknown> | null>;
}

const internals = new WeakMap<object, KitInternals>();

/**
 * The kit's plumbing for framework helpers and tests. Throws for anything that is not a kit.
 *
 * @example
 * ```ts
 * const token = internalsOf(kit).expand(decoded);
 * ```
 */
export function internalsOf(kit: object): KitInternals {
  const found = internals.get(kit);
  if (!found) invalidOption("claims-kit", "kit", "must be the value claimsKit() returned");
  return found;
}

/**
 * The Session rows the wrapped adapter created, by user, until the sign-in event that follows in
 * the same request takes them (Auth.js creates the row, then emits `signIn` without its token).
 * Held briefly: an entry nobody took within a minute is dropped.
 */
function justCreated(clock: () => number) {
  const entries = new Map<string, { sessionToken: string; authSessionId: string | null; at: number }>();
  return {
    put(userId: string, created: { sessionToken: string; authSessionId: string | null }) {
      for (const [key, e] of entries) if (clock() - e.at > 60_000) entries.delete(key);
      entries.set(userId, { ...created, at: clock() });
    },
    take(userId: string) {
      const e = entries.get(userId);
      entries.delete(userId);
      return e && clock() - e.at <= 60_000 ? { sessionToken: e.sessionToken, authSessionId: e.authSessionId } : undefined;
    },
  };
}

/**
 * Compose plugins into Auth.js `jwt()`/`session()` callbacks.
 *
 * - plugins run in list order; each sees the token as earlier plugins left it;
 * - a plugin returns a patch of its own claims: `undefined` leaves a claim, `null` deletes it;
 * - a write to another plugin's claim (`claim_not_owned`), to a protected claim (`claim_protected`)
 *   or failing the claim's rules (`claim_invalid`) refuses that plugin's whole patch;
 * - configuration errors throw here, at start-up, naming the option; request-time failures are
 *   logged and recorded on the token (`session.errors`), never thrown (a throw signs users out);
 * - `update()` payloads must be `{ intent, input?, nonce? }` naming a declared intent; anything
 *   else is rejected with a code and the token stays exactly as it was.
 *
 * @example
 * ```ts
 * export const kit = claimsKit({ plugins: [roles({ ... }), tenant({ ... })], budget: sizeBudget() });
 * export const { handlers, auth } = NextAuth({ callbacks: kit.callbacks, events: kit.events, ... });
 * export type AppKit = typeof kit; // SessionOf<AppKit>, useClaims<AppKit>()
 * ```
 */
export function claimsKit<const P extends readonly AnyPlugin[]>(options: ClaimsKitOptions<P>): ClaimsKit<P> {
  const rt = compile(options);
  const createdSessions = justCreated(rt.clock);
  /**
   * Auth.js's own lookup of a database session (the wrapped adapter's): the kit's state of a
   * session token is only handed to server code while Auth.js still holds that session.
   */
  let authSession: ((sessionToken: string) => Promise<{ session: { expires: Date } } | null>) | undefined;
  const registry = (): SessionRegistry => rt.registry ?? invalidOption("claimsKit", "sessions", "is required for session management (pass a SessionRegistry)");
  const kit: ClaimsKit<P> = Object.freeze({
    callbacks: {
      jwt: (params: JwtParams) => jwt(rt, params),
      session: (params: SessionParams | DatabaseSessionParams) => (isDatabaseSession(params) ? databaseSession(rt, params) : session(rt, params)),
    },
    events: {
      async signIn(message: { user: User; account?: Account | null; profile?: Profile; isNewUser?: boolean }) {
        // Only a sign-in whose Session row the wrapped adapter just created (database strategy).
        const created = message.user.id ? createdSessions.take(message.user.id) : undefined;
        if (created) await databaseSignIn(rt, created, message);
      },
      signOut: (message: { token?: JWT | null } | { session?: unknown }) => signOut(rt, message),
    },
    adapter<A extends Adapter>(adapter: A): A {
      const createSession = adapter.createSession?.bind(adapter);
      if (!createSession) return adapter;
      authSession = adapter.getSessionAndUser?.bind(adapter) as typeof authSession;
      return {
        ...adapter,
        async createSession(data: { sessionToken: string; userId: string; expires: Date }) {
          const row = await createSession(data);
          createdSessions.put(data.userId, { sessionToken: data.sessionToken, authSessionId: typeof (row as unknown as { id?: unknown }).id === "string" ? (row as unknown as { id: string }).id : null });
          return row;
        },
      };
    },
    claims: new Map([...rt.owners].map(([name, o]) => [name, { plugin: o.plugin, visibility: o.visibility }])),
    intents: new Map([[REFRESH_INTENT, "kit"], ...[...rt.intents].map(([name, e]) => [name, e.plugin.id] as [string, string])]),
    sessions: {
      list: async (userId: string) => registry().list(userId),
      listEnded: async (userId: string, opts?: { limit?: number }) => registry().list(userId, { ended: true, limit: opts?.limit }),
      revoke: async (sid: string, opts?: { by?: SessionEndCause }) => registry().revoke({ sid }, rt.now(), opts?.by),
      revokeAll: async (userId: string, opts?: { except?: string; by?: SessionEndCause }) => registry().revoke({ userId, except: opts?.except }, rt.now(), opts?.by),
      revokeByProvider: async (where: { issuer: string; sid?: string; subject?: string }) => {
        // Naming nothing must never mean "everything": refuse rather than match every session.
        if (!where.sid && !where.subject) invalidOption("kit.sessions.revokeByProvider", "where", "needs a sid or a subject");
        return registry().revoke({ issuer: where.issuer, providerSid: where.sid, subject: where.subject }, rt.now(), "provider");
      },
      listByProvider: async (where: { issuer: string; sid?: string; subject?: string }) => {
        const r = registry();
        if (!r.findByProvider) invalidOption("claimsKit", "sessions", "must find sessions by provider (findByProvider) for Shared Signals");
        if (!where.sid && !where.subject) return [];
        return r.findByProvider({ issuer: where.issuer, providerSid: where.sid, subject: where.subject });
      },
      reloadClaims: async (userId: string) => {
        // The reload supersedes every value server code queued before it (choices stay: an older
        // copy must not roll one back). Dropped before the bump and again after it, so a value
        // recorded in between (derived under the old version) does not outlive it either.
        // The first drop only narrows the window: whatever it fails on, the bump must still happen.
        const r = registry();
        await r.rewritePatch({ userId }, (current) => withoutValues(current)?.text).catch(() => 0);
        await r.bumpClaimsVersion(userId);
        await r.rewritePatch({ userId }, (current) => withoutValues(current)?.text);
      },
      updateOffline: async (userId: string, patch: PatchOf<P>) => {
        const checked = assertServerPatch(rt, patch);
        return registry().rewritePatch({ userId }, (current) => withValues(current, checked, rt.now()).text);
      },
      bumpEpoch: async () => registry().bumpEpoch(),
      purge: async (opts?: PurgeOptions) => purgeSessions(rt, registry(), opts),
    },
  });
  internals.set(kit, {
    expand: rt.expand,
    sessionId: sessionIdOf,
    isActive: (token) => isActive(rt, token),
    stageServerUpdate: (patch, token) => stageServerUpdate(rt, patch, token),
    supplyRequestInfo(requestInfo) {
      rt.hooks.requestInfo ??= requestInfo;
    },
    async stateOfSessionToken(sessionToken) {
      // A session Auth.js no longer holds -- expired (Auth.js deletes the row when it reads it, with
      // no event), or its row deleted without the kit hearing (an adapter whose deleteSession
      // returns nothing to the signOut event, an admin tool) -- has no state for server code,
      // whatever the kit's row says: a copied session token must not go on getting the user's
      // access token or server data.
      if (authSession) {
        const found = await authSession(sessionToken);
        if (!found || new Date(found.session.expires).valueOf() < rt.clock()) return null;
      }
      const row = rt.registry ? await rt.registry.check(await sessionIdOfToken(sessionToken)) : null;
      if (!row?.state || row.revoked) return null;
      try {
        return JSON.parse(row.state) as Record<string, unknown>;
      } catch {
        return null;
      }
    },
    async readServerData(token) {
      const id = sessionIdOf(token);
      if (!id || !rt.serverStore) return {};
      const data = (await rt.serverStore.read(serverDataKey(id))) ?? {};
      return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null));
    },
  });
  return kit;
}
