import type { StepErrorCode } from "./errors";

/** A value or a promise of it. */
export type Awaitable<T> = T | Promise<T>;

/**
 * Where a claim may be seen.
 * - `client`: in the token and exposed by `session()` (so `useSession()` and page HTML may see it).
 * - `token`: in the (encrypted) token only; read on the server with `readToken()`. Never sent to
 *   the browser's JavaScript: OAuth tokens, internal ids.
 * - `server`: not in the token at all; kept in a `ServerDataStore` keyed by the session, read on
 *   the server with `readServerData()`. For large or sensitive values.
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

/** What a client sends for an intent (the schema's input type). */
export type SchemaInput<S> = S extends StandardSchemaV1<infer I, unknown> ? I : never;
/**
 * What an intent's handler receives (the schema's output type). `any` for `any`, so that every
 * plugin is an {@link AnyPlugin}: `handle` takes its input contravariantly, and the packed package
 * declares these types once per entry, so a kit from `claims-kit` reaches `claims-kit/next/server`
 * and `claims-kit/next/client` as another (structurally compared) declaration; with `unknown`
 * there, no plugin with an intent would be one.
 */
export type SchemaOutput<S> = 0 extends 1 & S ? any : S extends StandardSchemaV1<unknown, infer O> ? O : never; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The toolkit's log sink. Messages never contain token values. */
export interface KitLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The token as plugins see it: claims of every plugin before them, plus Auth.js's defaults. */
export type TokenView = Readonly<Record<string, unknown>> & { readonly sub?: string };

/** Shared by every hook. */
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

/** Passed to the `load` hook: on sign-in it carries what Auth.js gave `jwt()`. */
export interface LoadContext extends BaseContext {
  readonly reason: LoadReason;
  /** On sign-in: the user (from the adapter when one is configured). */
  readonly user?: { readonly id?: string; readonly email?: string | null; readonly name?: string | null };
  /** On sign-in: the provider account (OAuth tokens live here). */
  readonly account?: Readonly<Record<string, unknown>> | null;
  /** On sign-in with OAuth/OIDC: the provider's profile. */
  readonly profile?: Readonly<Record<string, unknown>>;
  /**
   * Share a read between the loaders of one pass (a sign-in, a claims reload): the first to ask
   * for `key` runs `read`, the others in the same pass get its result. It lasts for that pass only,
   * so it never serves a row older than the reload, e.g. one `User` row for the role, grants and
   * billing loaders: `ctx.once("user:" + userId, () => db.user.findUnique(...))`.
   */
  once<T>(key: string, read: () => Awaitable<T>): Promise<T>;
}

/** Passed to the `jwt` hook on every call. */
export interface RequestContext extends BaseContext {
  readonly trigger: "signIn" | "signUp" | "update" | undefined;
  /**
   * Record a request-time failure on the token (`session.errors[pluginId]`) while still returning a
   * patch, e.g. a refresh plugin that marks its claim as stopped so nobody retries it on every request.
   */
  report(code: string, detail: string): void;
}

/**
 * A named, validated change a client may ask for with `useSession().update()`. `input` is a
 * Standard Schema (zod, valibot…): its output type flows into `handle` and `commit`, its input type
 * is what the client's `run()` accepts. A thrown `ClaimsKitError` rejects the update with its code
 * and leaves the session unchanged.
 */
export interface IntentSpec<C extends ClaimMap, S extends StandardSchemaV1> {
  readonly input: S;
  /**
   * Compute the patch. Must not write anything (database, external APIs): the kit may still refuse
   * the patch after it returns (claim rules, dependent claims, the size budget). Side effects go in
   * `commit`.
   */
  readonly handle: (input: SchemaOutput<S>, ctx: BaseContext) => Awaitable<Patch<C> | undefined>;
  /**
   * Runs once the kit has accepted the patch, right before the new token is issued: the place for
   * side effects such as saving the value. A throw rejects the update (the error's code, else
   * `plugin_failed`) and the session stays as it was.
   */
  readonly commit?: (input: SchemaOutput<S>, ctx: BaseContext) => Awaitable<void>;
  /**
   * The claims of the patch that are the user's own choice (default: every claim `handle`
   * returns). They follow the session to every older copy of its cookie, where the plugin's `load`
   * runs on them (the tenant plugin's membership check) and re-derives the rest. Leave out what
   * `handle` derives from server data (a role, a balance): an older copy must never take such a
   * value from the patch.
   */
  readonly chooses?: readonly string[];
}

/** A plugin's intents, one schema per name; the specs are typed from the schemas. */
export type IntentSchemas = { readonly [name: string]: StandardSchemaV1 };
export type IntentSpecs<C extends ClaimMap, S extends IntentSchemas> = { readonly [K in keyof S]: IntentSpec<C, S[K]> };

/**
 * The unit of composition: an id, the claims it owns, and optional hooks (`load`, `jwt`) and
 * intents. `errors` lists the codes the plugin itself records (beyond the kit's own), so
 * `session.errors[id]` is typed with them.
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
export interface ClaimsPlugin<
  Id extends string = string,
  C extends ClaimMap = ClaimMap,
  S extends IntentSchemas = IntentSchemas,
  E extends string = string,
> {
  readonly id: Id;
  readonly claims: C;
  /** Re-run `load` when an earlier plugin changes one of these claims in the same call. */
  readonly reloadOn?: readonly string[];
  /** Re-load this plugin's claims when older than this many seconds (overrides the kit's `freshness.maxAge`). */
  readonly maxAge?: number;
  /** Hook: (re)derive claims from the source of truth, on sign-in and whenever claims are refreshed. */
  load?(ctx: LoadContext): Awaitable<Patch<C> | undefined>;
  /** Hook: runs on every `jwt()` call, after sign-in loads and updates. Keep it cheap. */
  jwt?(ctx: RequestContext): Awaitable<Patch<C> | undefined>;
  readonly intents?: IntentSpecs<C, S>;
  /** The error codes this plugin may record, for `session.errors` types (a type carrier at run time). */
  readonly errors?: readonly E[];
}

/** Any plugin, for constraints. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the intent schemas of any plugin (variance)
export type AnyPlugin = ClaimsPlugin<string, ClaimMap, any, string>;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The claims declared by a list of plugins, merged. Read from `claims` alone: matching the whole
 * plugin type would also compare its intents' handlers, which fails for a plugin whose
 * declaration is another entry's copy (see {@link SchemaOutput}) and would drop its claims.
 */
export type ClaimsOf<P extends readonly AnyPlugin[]> = Simplify<UnionToIntersection<P[number] extends infer Q ? (Q extends { readonly claims: infer C extends ClaimMap } ? C : never) : never>>;

type VisibilityOf<S> = S extends ClaimSpec<unknown, infer V> ? V : never;
type PickVisible<C, V extends Visibility> = Simplify<{ -readonly [K in keyof C as VisibilityOf<C[K]> extends V ? K : never]?: ClaimValue<C[K]> }>;

/** Claims a plugin list puts in the token (client + token-only). */
export type TokenClaimsOf<P extends readonly AnyPlugin[]> = PickVisible<ClaimsOf<P>, "client" | "token">;
/** Claims `session()` exposes to the client. */
export type ClientClaimsOf<P extends readonly AnyPlugin[]> = PickVisible<ClaimsOf<P>, "client">;
/** Claims kept server-side. */
export type ServerClaimsOf<P extends readonly AnyPlugin[]> = PickVisible<ClaimsOf<P>, "server">;

/** The decoded token of a kit: Auth.js's defaults and the plugins' token claims. */
export type KitToken<P extends readonly AnyPlugin[]> = Simplify<
  {
    sub?: string;
    name?: string | null;
    email?: string | null;
    picture?: string | null;
    iat?: number;
    exp?: number;
    jti?: string;
    iss?: string;
    /** When the user authenticated at the provider (the id_token's, kept from sign-in; seconds). */
    auth_time?: number;
    /** How (authentication context class), from the id_token at sign-in. */
    acr?: string;
    /** With which methods, from the id_token at sign-in. */
    amr?: string[];
  } & TokenClaimsOf<P>
>;

type ErrorCodesOf<Q> = Q extends { readonly errors?: readonly (infer E)[] } ? (string extends E ? never : E) : never;

/** `session.errors`: per plugin id, the kit's step codes and the plugin's own; `kit` for the kit's. */
export type ErrorsOf<P extends readonly AnyPlugin[]> = Simplify<
  { [Q in P[number] as Q["id"]]?: StepErrorCode | ErrorCodesOf<Q> } & { kit?: StepErrorCode }
>;

type SchemasOf<Q> = Q extends ClaimsPlugin<string, ClaimMap, infer S, string> ? (string extends keyof S ? never : S) : never;
type MergedSchemas<P extends readonly AnyPlugin[]> = UnionToIntersection<SchemasOf<P[number]>>;

/** Intent name -> the input the client sends (each schema's input type), plus the built-in `refreshClaims`. */
export type IntentsOf<P extends readonly AnyPlugin[]> = Simplify<
  { [K in keyof MergedSchemas<P>]: SchemaInput<MergedSchemas<P>[K]> } & { refreshClaims: undefined }
>;

/** The session `auth()` and `useSession()` return for a kit. */
export interface KitSession<C = Record<string, unknown>, E = Record<string, string>> {
  user: { id: string; name?: string | null; email?: string | null; image?: string | null };
  expires: string;
  /** The client-visible claims, typed from the plugin list. */
  claims: C;
  /** Request-time failures by plugin id (codes only), when any. */
  errors?: E;
  /** Outcome of the last update intent (for the client helper). */
  update?: { intent: string; nonce?: string; code?: string };
}

/** A patch over every claim of a plugin list (server-side updates): `null` deletes. */
export type PatchOf<P extends readonly AnyPlugin[]> = { -readonly [K in keyof ClaimsOf<P>]?: ClaimValue<ClaimsOf<P>[K]> | null };

/** What the kit may learn about the request that signs in. */
export interface RequestInfo {
  /** For the sessions list. */
  userAgent?: string | null;
  /**
   * The session token the browser already had (decoded), if any: its session is revoked when the
   * new one is issued, so a copy of the old cookie stops working.
   */
  previousToken?: Readonly<Record<string, unknown>> | null;
  /** Under Auth.js's database strategy: the kit's id of the session the browser already had. */
  previousSessionId?: string | null;
}
