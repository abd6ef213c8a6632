import type { KitErrorCode, KitErrorRecord } from "./errors";

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/**
 * Where a claim may be seen.
 * - `client`: in the token and exposed by `session()` (so `useSession()` and page HTML may see it).
 * - `token`: in the (encrypted) token only; read on the server with `readToken()`. Never sent to
 *   the browser's JavaScript: OAuth tokens, internal ids.
 * - `server`: not in the token at all; kept in a {@link ServerDataStore} keyed by the session,
 *   read on the server with `readServerData()`. For large or sensitive values.
 */
export type Visibility = "client" | "token" | "server";

/**
 * Declares one claim. `T` is its value type (a type-only carrier); `check`, when given, is run on
 * every value a plugin writes and a failing value is refused (`claim_invalid`).
 */
export interface ClaimSpec<T = unknown, V extends Visibility = Visibility> {
  readonly visibility: V;
  readonly check?: (value: unknown) => boolean;
  /**
   * Most UTF-8 bytes the value may take as JSON in the token (client and token claims); writes over
   * it are refused (`claim_invalid`). Default: the kit's `claimMaxBytes`.
   */
  readonly maxBytes?: number;
  /** Type carrier only; never set at run time. */
  readonly __type?: T;
}

/** A plugin's declared claims: name -> spec. */
export type ClaimMap = { readonly [name: string]: ClaimSpec<unknown, Visibility> };

/** The value type of a claim spec. */
export type ClaimValue<S> = S extends ClaimSpec<infer T, Visibility> ? T : never;

/** What a plugin returns: new values for some of its own claims; `null` deletes a claim. */
export type Patch<C extends ClaimMap> = { [K in keyof C]?: ClaimValue<C[K]> | null };

/** Minimal Standard Schema v1 (zod 4, valibot, arktype implement it): the toolkit needs only this. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}
export type StandardResult<O> =
  | { readonly value: O; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> }> };

/** What the kit may learn about the request that signs in. */
export interface RequestInfo {
  /** For the sessions list. */
  userAgent?: string | null;
  /**
   * The session token the browser already had (decoded), if any: its session is revoked when the
   * new one is issued, so a copy of the old cookie stops working.
   */
  previousToken?: Readonly<Record<string, unknown>> | null;
}

/** The toolkit's log sink. Messages never contain token values. */
export interface KitLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The token as plugins see it: claims of every plugin before them, plus Auth.js's defaults. */
export type TokenView = Readonly<Record<string, unknown>> & { readonly sub?: string };

/** Shared by every plugin call. */
export interface BaseContext {
  /** The token so far (earlier plugins' patches applied). Read-only. */
  readonly token: TokenView;
  /** The database user id (`token.sub`), when signed in. */
  readonly userId: string | undefined;
  /** Seconds since the epoch, from the kit's clock. */
  readonly now: number;
  readonly log: KitLogger;
}

/** Why `load()` runs. */
export type LoadReason = "signIn" | "refresh" | "dependency";

/** Passed to `load()`: on sign-in it carries what Auth.js gave `jwt()`. */
export interface LoadContext extends BaseContext {
  readonly reason: LoadReason;
  /** On sign-in: the user (from the adapter when one is configured). */
  readonly user?: { readonly id?: string; readonly email?: string | null; readonly name?: string | null };
  /** On sign-in: the provider account (OAuth tokens live here). */
  readonly account?: Readonly<Record<string, unknown>> | null;
  /** On sign-in with OAuth/OIDC: the provider's profile. */
  readonly profile?: Readonly<Record<string, unknown>>;
}

/** Passed to `jwt()` halves on every call. */
export interface RequestContext extends BaseContext {
  readonly trigger: "signIn" | "signUp" | "update" | undefined;
  /**
   * Record a request-time failure on the token (`session.errors[pluginId]`) while still returning a
   * patch, e.g. a refresh plugin that marks its claim as stopped so nobody retries it on every request.
   */
  report(code: string, detail: string): void;
}

/**
 * A named, validated change a client may ask for with `useSession().update()`.
 * `input` validates the client's payload; `handle` re-derives claims on the server. A thrown
 * {@link ClaimsKitError} rejects the update with its code and leaves the session unchanged.
 */
export interface IntentSpec<C extends ClaimMap = ClaimMap, I = unknown> {
  readonly input: StandardSchemaV1<unknown, I>;
  /**
   * Compute the patch. Must not write anything (database, external APIs): the kit may still refuse
   * the patch after it returns (claim rules, dependent claims, the size budget). Side effects go in
   * `commit`.
   */
  handle(input: I, ctx: BaseContext): Awaitable<Patch<C> | undefined>;
  /**
   * Runs once the kit has accepted the patch, right before the new token is issued: the place for
   * side effects such as saving the value. A throw rejects the update (the error's code, else
   * `plugin_failed`) and the session stays as it was.
   */
  commit?(input: I, ctx: BaseContext): Awaitable<void>;
}

/** A plugin's intents: name -> spec. */
export type IntentMap<C extends ClaimMap = ClaimMap> = { readonly [name: string]: IntentSpec<C, unknown> };

/**
 * The unit of composition: an id, the claims it owns, and optional halves.
 *
 * @example
 * ```ts
 * const locale = {
 *   id: "locale",
 *   claims: { locale: claim.client<string>() },
 *   load: async ({ userId }) => ({ locale: (await db.user(userId))?.locale ?? null }),
 * } satisfies ClaimsPlugin;
 * ```
 */
export interface ClaimsPlugin<Id extends string = string, C extends ClaimMap = ClaimMap, I extends IntentMap<C> = IntentMap<C>> {
  readonly id: Id;
  readonly claims: C;
  /** Re-run `load()` when an earlier plugin changes one of these claims in the same call. */
  readonly reloadOn?: readonly string[];
  /** Re-load this plugin's claims when older than this many seconds (overrides the kit's `freshness.maxAge`). */
  readonly maxAge?: number;
  /** (Re)derive claims from the source of truth: on sign-in, and whenever claims are refreshed. */
  load?(ctx: LoadContext): Awaitable<Patch<C> | undefined>;
  /** Runs on every `jwt()` call, after sign-in loads and updates. Keep it cheap. */
  jwt?(ctx: RequestContext): Awaitable<Patch<C> | undefined>;
  readonly intents?: I;
  /**
   * The last word on the whole token (size budgets): may drop or move any non-protected claim.
   * Only the last plugin of a kit may have it.
   */
  finalize?(ctx: FinalizeContext): Awaitable<FinalizeResult | undefined>;
  /** What the plugin needs from the kit, checked at start-up. */
  readonly needs?: { readonly serverStore?: boolean };
}

/** Passed to `finalize()`. */
export interface FinalizeContext extends RequestContext {
  readonly signingIn: boolean;
  /** Declared claims: owner and visibility. */
  readonly claims: ReadonlyMap<string, { plugin: string; visibility: Visibility }>;
  /** The token as it will be stored (short keys applied), for measuring. */
  stored(token: Readonly<Record<string, unknown>>): Record<string, unknown>;
}

/** What `finalize()` decides. */
export interface FinalizeResult {
  /** Claims to remove from the token. */
  drop?: readonly string[];
  /** Claims to move to server-side data (the session still reads client ones transparently). */
  move?: readonly string[];
  /** At sign-in only: refuse the sign-in with this error (it is thrown). */
  refuse?: { code: KitErrorCode; message: string };
  /** A request-time failure to record on the token. */
  error?: { code: string; detail: string };
}

/** Any plugin, for constraints. */
export type AnyPlugin = ClaimsPlugin<string, ClaimMap, IntentMap>;

/** The toolkit's bookkeeping on the token (key `_k`, protected). Short keys: it rides in the cookie. */
export interface Bookkeeping {
  /** Session id, made at sign-in: the key for server-side data and the session list. */
  sid?: string;
  /** Request-time failures per plugin. */
  e?: Record<string, KitErrorRecord>;
  /** Outcome of the last update intent: its name, nonce, and the error code when rejected. */
  u?: { i: string; n?: string; c?: string };
  /** When claims were last loaded (seconds). */
  l?: number;
  /** When plugins with their own `maxAge` were last loaded, by plugin id (seconds). */
  lp?: Record<string, number>;
  /** The user's claims version these claims were loaded at. */
  v?: number;
  /** The global epoch at sign-in. */
  ep?: string;
  /** When the session was last checked against the registry (seconds). */
  c?: number;
  /** Id of the last offline patch applied to this token. */
  op?: string;
  /** Claims the size budget dropped from this token. */
  d?: string[];
  /** Claims the size budget moved to server-side data. */
  m?: string[];
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The claims declared by a list of plugins, merged. */
export type ClaimsOf<P extends readonly AnyPlugin[]> = Simplify<UnionToIntersection<P[number] extends infer Q ? Q extends ClaimsPlugin<string, infer C, infer _I> ? C : never : never>>;

type VisibilityOf<S> = S extends ClaimSpec<unknown, infer V> ? V : never;
type PickVisible<C, V extends Visibility> = Simplify<{ -readonly [K in keyof C as VisibilityOf<C[K]> extends V ? K : never]?: ClaimValue<C[K]> }>;

/** Claims a plugin list puts in the token (client + token-only). */
export type TokenClaimsOf<P extends readonly AnyPlugin[]> = PickVisible<ClaimsOf<P>, "client" | "token">;
/** Claims `session()` exposes to the client. */
export type ClientClaimsOf<P extends readonly AnyPlugin[]> = PickVisible<ClaimsOf<P>, "client">;
/** Claims kept server-side. */
export type ServerClaimsOf<P extends readonly AnyPlugin[]> = PickVisible<ClaimsOf<P>, "server">;

/** The decoded token of a kit: Auth.js's defaults, the plugins' token claims, bookkeeping. */
export type KitToken<P extends readonly AnyPlugin[]> = Simplify<{
  sub?: string;
  name?: string | null;
  email?: string | null;
  picture?: string | null;
  iat?: number;
  exp?: number;
  jti?: string;
  iss?: string;
  _k?: Bookkeeping;
} & TokenClaimsOf<P>>;

/** The session `auth()` and `useSession()` return for a kit. */
export interface KitSession<C = Record<string, unknown>> {
  user: { id: string; name?: string | null; email?: string | null; image?: string | null };
  expires: string;
  /** The client-visible claims, typed from the plugin list. */
  claims: C;
  /** Request-time failures by plugin id (codes only), when any. */
  errors?: Record<string, string>;
  /** Outcome of the last update intent (for the client helper). */
  update?: { intent: string; nonce?: string; code?: string };
}

type IntentsOfPlugin<Q> = Q extends ClaimsPlugin<string, ClaimMap, infer I> ? (string extends keyof I ? never : I) : never;
type IntentInput<S> = S extends IntentSpec<ClaimMap, infer I> ? I : never;

/** Intent name -> input type, for a plugin list (plus the built-in `refreshClaims`). */
export type IntentsOf<P extends readonly AnyPlugin[]> = Simplify<
  { [K in keyof UnionToIntersection<IntentsOfPlugin<P[number]>>]: IntentInput<UnionToIntersection<IntentsOfPlugin<P[number]>>[K]> } & { refreshClaims: undefined }
>;

/** Stores server-side claims per session. Values are JSON. */
export interface ServerDataStore {
  read(key: string): Promise<Record<string, unknown> | null>;
  /** Merge `patch` into the stored object (`null` deletes a key); create it when missing. */
  write(key: string, userId: string, patch: Record<string, unknown>, expiresAt: Date): Promise<void>;
  remove(key: string): Promise<void>;
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
  /** Claims changed offline for this session, as stored (JSON `{ id, patch }`), or null. */
  pendingPatch: string | null;
}

/** A listed session, for "your devices" pages. */
export interface SessionInfo {
  sid: string;
  userId: string;
  userAgent: string | null;
  createdAt: number;
  lastSeenAt: number;
  revokedAt: number | null;
}

/**
 * Where sessions are listed and checked (the database is the source of truth). The `jwt()` path
 * uses `create` at sign-in and `check` (plus the occasional `touch`) afterwards.
 */
export interface SessionRegistry {
  create(session: { sid: string; userId: string; userAgent?: string | null; now: number }): Promise<{ claimsVersion: number; epoch: string }>;
  check(sid: string): Promise<SessionState | null>;
  touch(sid: string, now: number): Promise<void>;
  list(userId: string): Promise<SessionInfo[]>;
  /** Revoke sessions by id, or all of a user's (optionally except one). Returns how many. */
  revoke(where: { sid: string } | { userId: string; except?: string }, now: number): Promise<number>;
  /** Make the user's sessions reload their claims; supersedes (clears) their pending offline patches. */
  bumpClaimsVersion(userId: string): Promise<void>;
  /**
   * Merge `patch` into the pending patch of every live session of the user (`null` deletes), under
   * a new id. Pending patches are cumulative and stay until the next claims-version bump.
   */
  queuePatch(userId: string, patch: Record<string, unknown>): Promise<number>;
  bumpEpoch(): Promise<string>;
}

/** A patch over every claim of a plugin list (server-side updates): `null` deletes. */
export type PatchOf<P extends readonly AnyPlugin[]> = { -readonly [K in keyof ClaimsOf<P>]?: ClaimValue<ClaimsOf<P>[K]> | null };
