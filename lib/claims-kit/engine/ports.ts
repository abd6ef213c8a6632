// The ports the toolkit's core and plugins need from storage. The Prisma stores (../prisma) and
// the in-memory ones implement them; an app may bring its own (Redis, another ORM).
import type { Awaitable } from "./types";

/** Stores server-side claims per session. Values are JSON. */
export interface ServerDataStore {
  read(key: string): Promise<Record<string, unknown> | null>;
  /** Merge `patch` into the stored object (`null` deletes a key); create it when missing. */
  write(key: string, userId: string, patch: Record<string, unknown>, expiresAt: Date): Promise<void>;
  remove(key: string): Promise<void>;
  /** Retention (`kit.sessions.purge`): delete these keys' data (at most a batch), returning how many rows went. */
  removeMany?(keys: readonly string[]): Promise<number>;
  /** Retention: delete at most `limit` entries whose expiry is before `now`, returning how many. */
  purge?(now: Date, limit: number): Promise<number>;
}

/** What one freshness check reads about a session (one indexed query). */
export interface SessionState {
  revoked: boolean;
  /** The user's claims version: a change makes the session reload its claims. */
  claimsVersion: number;
  /** The global epoch: a change signs every session out. */
  epoch: string;
  /** Seconds since the epoch. */
  lastSeenAt: number;
  /** What every copy of this session's cookie must pick up (the kit's pending patch, as stored), or null. */
  pendingPatch: string | null;
  /** The session's user (a cache of states invalidates by user). */
  userId?: string;
  /**
   * The change-log position this answer is current at (a registry cache that reads the change log:
   * `cachedSessionRegistry`): every change to the session logged after it has a higher sequence
   * number. The token keeps it, and a later check passes it back as the hint.
   */
  logPosition?: number;
  /** The answer came from the hint, without reading the registry (see {@link CheckHint}). */
  fromHint?: boolean;
  /**
   * Under Auth.js's database strategy: the kit's side of the session, as stored (JSON of the
   * claims and bookkeeping a JWT-strategy cookie would carry); null until written.
   */
  state?: string | null;
}

/**
 * What a token says about its session as of its last check: a registry cache that has read every
 * change logged since `logPosition`, none of which names the session, its user or every session,
 * knows this is still the session's state, and may answer from it without a query.
 *
 * @example
 * ```ts
 * const hint: CheckHint = { userId: "u1", claimsVersion: 3, epoch: "0", logPosition: 1042 };
 * ```
 */
export interface CheckHint {
  userId: string;
  claimsVersion: number;
  epoch: string;
  logPosition: number;
}

/**
 * What changed in the registry, for processes that cache its state: one session, every session of
 * one user, or everything (an epoch bump, a revocation by provider session).
 *
 * @example
 * ```ts
 * const change: RegistryChange = { seq: 42, kind: "user", key: userId };
 * ```
 */
export interface RegistryChange {
  seq: number;
  kind: "session" | "user" | "all";
  key: string;
}

/**
 * The registry's change log, shared by every process (a table): appended after each write, read
 * from the last sequence number a process saw.
 *
 * @example
 * ```ts
 * const changes: ChangeLog = prismaChangeLog(prisma);
 * await changes.append("session", sid, now);
 * ```
 */
export interface ChangeLog {
  /**
   * Append a change. Returns its sequence number when the log can tell (then the writing process
   * knows of its own change at once; otherwise it reads the log before the write returns).
   */
  append(kind: RegistryChange["kind"], key: string, now: number): Promise<number | void>;
  /** Changes after `seq`, oldest first (at most `limit`). */
  since(seq: number, limit: number): Promise<RegistryChange[]>;
  /** The last sequence number (0 when empty). */
  latest(): Promise<number>;
  /**
   * The first sequence number the log still holds (after pruning; 0 when empty). Lets a process
   * that slept tell skipped numbers from pruned rows (then it forgets everything it cached).
   */
  earliest?(): Promise<number>;
  /**
   * Retention: delete at most `limit` changes appended before `before` (seconds), never the newest
   * one (a reader's position must stay in the log). A reader whose position was pruned notices it
   * (`earliest`) and starts again from the log's end. Returns how many went.
   */
  purge?(before: number, limit: number): Promise<number>;
}

/**
 * Wakes every process when the change log grew (PostgreSQL LISTEN/NOTIFY; Redis; in-process events).
 * `crossProcess` says whether a wake-up reaches other processes right now (connected). A publish
 * may announce the changes it follows (their sequence numbers known): a subscriber then receives
 * them when they reached it authenticated (`changes`), and may apply them without reading the log;
 * without them it reads the log.
 *
 * @example
 * ```ts
 * const feed: ChangeFeed = inProcessChangeFeed();
 * const stop = feed.subscribe((changes) => (changes ? apply(changes) : sync()));
 * ```
 */
export interface ChangeFeed {
  subscribe(onChange: (changes?: readonly RegistryChange[]) => void): () => void;
  publish(changes?: readonly RegistryChange[]): Promise<void>;
  readonly crossProcess: boolean;
  close?(): Promise<void>;
}

/**
 * Who ended a session: the user (sign-out, "sign out other sessions"), an admin, the identity
 * provider (OIDC back-channel logout), a new sign-in in the same browser that replaced it, or its
 * expiry (`kit.sessions.purge` found it unused for longer than the session's lifetime).
 */
export type SessionEndCause = "user" | "admin" | "provider" | "replaced" | "expired";

/** The identity provider's view of a sign-in (from the id_token): what back-channel logout names. */
export interface ProviderSession {
  /** The id_token's `iss`. */
  issuer: string;
  /** The id_token's `sub`. */
  subject: string;
  /** The id_token's `sid` (the provider's session id), when it sends one. */
  sid: string | null;
}

/** A listed session, for "your devices" pages. */
export interface SessionInfo {
  sid: string;
  userId: string;
  userAgent: string | null;
  createdAt: number;
  lastSeenAt: number;
  revokedAt: number | null;
  /** The provider's session id recorded at sign-in (`sid` of the id_token), if any. */
  providerSid: string | null;
  /** Why it ended (null while live, or when ended before causes were recorded). */
  endedBy: SessionEndCause | null;
}

/** Which sessions to revoke: one, a user's (optionally but one), or a provider session or subject. */
export type RevokeWhere =
  | { sid: string }
  | { userId: string; except?: string }
  /** Back-channel logout: by the provider's `sid` (and `subject`, when both are given), or every session of `subject`. */
  | { issuer: string; providerSid?: string; subject?: string };

/**
 * Where sessions are listed and checked (the database is the source of truth). The `jwt()` path
 * uses `create` at sign-in and `check` (plus the occasional `touch`) afterwards.
 */
export interface SessionRegistry {
  /**
   * Record a new session. `authSessionId`: under Auth.js's database strategy, the Auth.js Session
   * row it belongs to, which a revocation then ends too (a deleted row reads as signed out at once,
   * in every process).
   */
  create(session: { sid: string; userId: string; userAgent?: string | null; now: number; provider?: ProviderSession | null; authSessionId?: string | null }): Promise<{ claimsVersion: number; epoch: string }>;
  /**
   * The session's state; an in-memory registry may answer synchronously. `hint`: what the token
   * says the state was at its last check (a cache may answer from it; a registry ignores it).
   */
  check(sid: string, hint?: CheckHint): Awaitable<SessionState | null>;
  touch(sid: string, now: number): Promise<void>;
  /** The user's live sessions, newest first; with `ended`, the most recently ended ones instead (at most `limit`, default 20). */
  list(userId: string, options?: { ended?: boolean; limit?: number }): Promise<SessionInfo[]>;
  /** Revoke live sessions (see {@link RevokeWhere}), recording who ended them. Returns how many. */
  revoke(where: RevokeWhere, now: number, by?: SessionEndCause): Promise<number>;
  /** Make the user's sessions reload their claims (their next request reloads every claim). */
  bumpClaimsVersion(userId: string): Promise<void>;
  /**
   * Rewrite the pending patch of one session, or of every live session of a user, compare-and-set:
   * `next` gets the stored text (null when none) and returns the text to store (null clears), or
   * undefined to leave it. Retried when another writer changed it in between. With
   * `claimsVersion`, written only while the user's claims version is still that one. The format of
   * the text belongs to the kit (see `engine/patches.ts`); a registry only stores it. Returns how
   * many sessions were written; throws when it could not write one it should have (never a
   * silently lost change), after trying the others.
   */
  rewritePatch(where: { sid: string } | { userId: string }, next: (current: string | null) => string | null | undefined, options?: { claimsVersion?: number }): Promise<number>;
  bumpEpoch(): Promise<string>;
  /**
   * The live sessions signed in through a provider session `providerSid` (and of `subject`, when
   * both are given), or of the provider `subject`: what a Shared Signals event names. Ids compared
   * as `revoke` compares them. Needed for `sharedSignals()` only.
   */
  findByProvider?(where: { issuer: string; providerSid?: string; subject?: string }): Promise<Array<{ sid: string; userId: string }>>;
  /**
   * Under Auth.js's database strategy: store the session's side the kit keeps (what the cookie
   * carries under the JWT strategy), compare-and-set: only while the stored text is still
   * `expected` (null: none yet) and the session is live. Returns whether it wrote. Needed for
   * `session: { strategy: "database" }` only.
   */
  writeState?(sid: string, state: string, expected: string | null): Promise<boolean>;
  /**
   * Retention (`kit.sessions.purge`): end at most `limit` live sessions last seen before
   * `lastSeenBefore` (seconds), as ended at `now` by `"expired"`. Returns their ids.
   */
  expire?(lastSeenBefore: number, now: number, limit: number): Promise<string[]>;
  /**
   * Retention: delete at most `limit` sessions that ended before `endedBefore` (seconds), and what
   * the registry keeps with them (under the database strategy, their Auth.js Session rows).
   * Returns their ids (the kit then deletes their server-side data).
   */
  purgeEnded?(endedBefore: number, limit: number): Promise<string[]>;
  /** Retention, for a registry with a change log (a cache): prune it (see {@link ChangeLog.purge}). */
  purgeChanges?(before: number, limit: number): Promise<number>;
}

/**
 * Remembers one-time values (a logout token's `jti`) across processes until they expire, so a
 * replay to any instance is caught.
 *
 * @example
 * ```ts
 * const replay: ReplayStore = prismaReplayStore(prisma);
 * if (!(await replay.once(`bcl:${iss}:${jti}`, exp, now))) refuse("replayed");
 * ```
 */
export interface ReplayStore {
  /**
   * True the first time `key` is seen; false while an earlier sighting has not expired. Times in
   * seconds. An `expiresAt` before `now` is a look: it blocks no later call (the Shared Signals
   * receiver looks before it marks a `jti`, and marks it only once the SET was applied).
   */
  once(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Forget `key` (the work it guarded failed and may be retried). */
  forget(key: string): Promise<void>;
  /** Retention: delete at most `limit` keys expired before `now` (seconds), returning how many. */
  purge?(now: number, limit: number): Promise<number>;
}

export type { SecurityEventLog, SecurityEventRecord } from "./event-log";
export type { AccessTokenInfo, AccessTokenSource, AccountRef, TokenSet, TokenVault, VaultBackoff, VaultEntry } from "./vault-ports";
