import type { JWT } from "@auth/core/jwt";
import type { Account, Profile, Session, User } from "@auth/core/types";
import { ClaimsKitError, codeOf, invalidOption, type KitErrorCode } from "./errors";
import type {
  AnyPlugin,
  Awaitable,
  BaseContext,
  Bookkeeping,
  ClaimSpec,
  PatchOf,
  ClientClaimsOf,
  FinalizeResult,
  IntentSpec,
  IntentsOf,
  KitLogger,
  KitSession,
  KitToken,
  LoadContext,
  LoadReason,
  RequestInfo,
  ServerClaimsOf,
  ServerDataStore,
  SessionInfo,
  SessionRegistry,
  StandardResult,
  Visibility,
} from "./types";

/**
 * Claims no plugin may write, on sign-in or later: the JWT's registered claims, Auth.js's subject,
 * and the toolkit's bookkeeping (`_k`).
 *
 * @example
 * ```ts
 * PROTECTED_CLAIMS.has("sub"); // true
 * ```
 */
export const PROTECTED_CLAIMS: ReadonlySet<string> = new Set(["sub", "iat", "exp", "nbf", "jti", "iss", "aud", "_k"]);

/**
 * The intent every kit has: re-run every plugin's `load()` (for example after a tier upgrade).
 *
 * @example
 * ```ts
 * await update({ intent: REFRESH_INTENT });
 * ```
 */
export const REFRESH_INTENT = "refreshClaims";

/**
 * Marks a server-side update staged in this process (see `stageServerUpdate`); not a valid client intent name.
 *
 * @example
 * ```ts
 * await unstable_update(kit.stageServerUpdate({ credits: 5 })); // { intent: SERVER_INTENT, nonce }
 * ```
 */
export const SERVER_INTENT = "$server";
const STAGED_TTL_MS = 30_000;

const CLAIM_NAME = /^[A-Za-z_$][\w$]{0,63}$/;
/** Claim names that must never ride in a token (server-side visibility is fine). */
const SENSITIVE_NAME = /pass(word|wd|phrase)|secret|(^|_)ssn$|social.?security|api.?key|private.?key|credit.?card|card.?number|cvv/i;
/** Values that look like raw credentials; refused in client-visible claims. */
const SENSITIVE_VALUE = [
  /^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}/, // Stripe secret keys
  /^AKIA[0-9A-Z]{16}$/, // AWS access key ids
  /^gh[pousr]_[A-Za-z0-9]{30,}/, // GitHub tokens
  /^xox[abprs]-[A-Za-z0-9-]{10,}/, // Slack tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]+$/, // a raw JWT (an access or id token)
];
const CHURN_MIN_CALLS = 20;
const PLUGIN_ID = /^[a-z][a-z0-9-]{0,39}$/;
const INTENT_NAME = /^[A-Za-z][\w.-]{0,63}$/;
/** A client's correlation id: short and ASCII, so echoing it can never grow the cookie much. */
const NONCE = /^[\w-]{1,32}$/;
const DEFAULT_CLAIM_MAX_BYTES = 2048;
const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);
const DEFAULT_MAX_AGE = 30 * 24 * 60 * 60;

/** Options of {@link claimsKit}. */
export interface ClaimsKitOptions<P extends readonly AnyPlugin[]> {
  /** The plugins, in the order they run. Later plugins see earlier plugins' claims. */
  plugins: P;
  /** Sets `iss` on every token at sign-in. */
  issuer?: string;
  /** Required when a plugin declares `server` claims. */
  serverStore?: ServerDataStore;
  /** Milliseconds since the epoch. Tests pass a fake clock. */
  clock?: () => number;
  logger?: KitLogger;
  /** Session lifetime in seconds (Auth.js `session.maxAge`), used to expire server-side data. */
  maxAge?: number;
  /**
   * Lists sessions and checks them on requests: revocation, claims versions, offline changes,
   * the global epoch. Without it, none of these apply (stateless JWTs).
   */
  sessions?: SessionRegistry;
  /** How claims stay fresh. All in seconds. */
  freshness?: {
    /** Check the registry at most this often per session; 0 (default) = every request. */
    checkEvery?: number;
    /** Reload every plugin's claims when they are older than this; default: never by age. */
    maxAge?: number;
    /** Record `lastSeenAt` at most this often (a write); default 300. */
    touchEvery?: number;
  };
  /**
   * Short keys for claims in the stored token (`{ tenantRole: "tr" }`). Plugins, `session()` and
   * `readToken()` see the full names; only the cookie carries the short ones.
   */
  keys?: Record<string, string>;
  /**
   * Describes the request at sign-in: the user agent for the sessions list, and the session token
   * the browser already had, whose session then ends (see `nextRequestInfo`). Failures are ignored.
   */
  requestInfo?: () => Awaitable<RequestInfo>;
  /**
   * Default limit on one claim value's encoded size (UTF-8 bytes of its JSON) for client and token
   * claims; a claim's own `maxBytes` wins. Writes over it are refused (`claim_invalid`). Default 2048.
   */
  claimMaxBytes?: number;
}

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

/** What {@link claimsKit} returns. */
export interface ClaimsKit<P extends readonly AnyPlugin[]> {
  /** Pass to `NextAuth({ callbacks: { ...kit.callbacks } })`. */
  readonly callbacks: {
    /** Resolves to `null` (Auth.js then signs the user out) only for a revoked or unknown session. */
    jwt(params: JwtParams): Promise<JWT | null>;
    session(params: SessionParams): Promise<Session>;
  };
  /** Pass to `NextAuth({ events: { ...kit.events } })`: drops server-side data on sign-out. */
  readonly events: {
    signOut(message: { token?: JWT | null } | { session?: unknown }): Promise<void>;
  };
  readonly plugins: P;
  /** Every declared claim: owner plugin and visibility (for inspectors and budgets). */
  readonly claims: ReadonlyMap<string, { plugin: string; visibility: Visibility }>;
  /** Intent names and the plugin that owns each (`refreshClaims` belongs to the kit). */
  readonly intents: ReadonlyMap<string, string>;
  /** Server-side claims of the session a token belongs to (`{}` when none). */
  readServerData(token: JWT | null | undefined): Promise<Partial<ServerClaimsOf<P>>>;
  /**
   * Stage a server-side change of the current session's claims and return the payload to hand to
   * Auth.js's `unstable_update()` (see `updateSession` in next/server). Only code in this process can
   * stage one: the payload carries a one-time random nonce, useless to a client, and bound to the
   * session of `token` (the current request's decoded session token): no other session can use it.
   */
  stageServerUpdate(patch: PatchOf<P>, token: JWT | null | undefined): { intent: typeof SERVER_INTENT; nonce: string };
  /** Sessions and freshness, for server code. Throws `invalid_option` when no `sessions` registry is set. */
  readonly sessions: {
    list(userId: string): Promise<SessionInfo[]>;
    /** Sign one session out on its next request. */
    revoke(sid: string): Promise<number>;
    /** Sign out all of a user's sessions, optionally except one (e.g. the current). */
    revokeAll(userId: string, options?: { except?: string }): Promise<number>;
    /** Make every session of the user reload its claims on its next request. */
    refreshClaims(userId: string): Promise<void>;
    /**
     * Change claims of a user who may not be making a request: every live session picks the change
     * up on its next request. Same rules as online updates: declared claims only, `null` deletes.
     */
    updateOffline(userId: string, patch: PatchOf<P>): Promise<number>;
    /** Invalidate every session at once (secret rotation, incident). */
    bumpEpoch(): Promise<string>;
  };
  /** The session id (`sid`) of a decoded token. */
  sessionId(token: JWT | null | undefined): string | undefined;
  /**
   * Whether a decoded token's session is still valid in the registry (not revoked, same epoch).
   * `true` without a registry. Server helpers that read a cookie without `auth()` use it.
   */
  isActive(token: JWT | null | undefined): Promise<boolean>;
  /** A decoded cookie token with full claim names (undoes `keys`). */
  expand(token: JWT): JWT;
  /** The token as stored in the cookie (applies `keys`). */
  stored(token: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** Type carrier: `typeof kit.$types.session` and friends. Never set at run time. */
  readonly $types?: {
    token: KitToken<P>;
    session: KitSession<ClientClaimsOf<P>>;
    intents: IntentsOf<P>;
    serverData: ServerClaimsOf<P>;
  };
}

/** The token a kit produces. */
export type TokenOf<K> = K extends ClaimsKit<infer P> ? KitToken<P> : never;
/** The session `auth()`/`useSession()` return for a kit. */
export type SessionOf<K> = K extends ClaimsKit<infer P> ? KitSession<ClientClaimsOf<P>> : never;
/** Intent name -> input type for a kit. */
export type IntentsOfKit<K> = K extends ClaimsKit<infer P> ? IntentsOf<P> : never;
/** Server-side data of a kit. */
export type ServerDataOf<K> = K extends ClaimsKit<infer P> ? ServerClaimsOf<P> : never;

const consoleLogger: KitLogger = {
  info: (m) => console.info(`[claims-kit] ${m}`),
  warn: (m) => console.warn(`[claims-kit] ${m}`),
  error: (m) => console.error(`[claims-kit] ${m}`),
};

type Claims = Record<string, unknown>;

/** One `jwt()` call's working state; copied for an update so a rejection can be discarded whole. */
interface Work {
  token: Claims;
  k: Bookkeeping;
  server: Claims;
}

function isPlainObject(v: unknown): v is Claims {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The JSON a value encodes to in the token, or undefined when it has none (BigInt, cycle). */
function encodeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();
const utf8Bytes = (text: string) => encoder.encode(text).length;

/** What one step of the kit returns: the caller decides whether to record a failure. */
type Outcome<T extends object = object> = ({ ok: true } & T) | Failure;
type Failure = { ok: false; code: string; detail: string };

function cloneWork(w: Work): Work {
  return { token: { ...w.token }, k: { ...w.k, e: w.k.e ? { ...w.k.e } : undefined }, server: { ...w.server } };
}

/**
 * Compose plugins into Auth.js `jwt()`/`session()` callbacks.
 *
 * Semantics, in one place:
 * - plugins run in list order; each sees the token as earlier plugins left it;
 * - a plugin returns a patch of its own claims: `undefined` leaves a claim, `null` deletes it;
 * - a plugin may write only the claims it declares; a write to another plugin's claim
 *   (`claim_not_owned`), to a protected claim (`claim_protected`) or failing the claim's check
 *   (`claim_invalid`) refuses that plugin's whole patch;
 * - configuration errors throw here, at start-up, naming the option; request-time failures are
 *   logged and recorded on the token (`session.errors`), never thrown (a throw signs users out);
 * - `update()` payloads must be `{ intent, input?, nonce? }` naming a declared intent; anything
 *   else is rejected with a code and the token stays exactly as it was.
 *
 * @example
 * ```ts
 * export const kit = claimsKit({ plugins: [roles({ ... }), tenant({ ... })] });
 * export const { handlers, auth } = NextAuth({ callbacks: kit.callbacks, events: kit.events, ... });
 * export type AppSession = SessionOf<typeof kit>;
 * ```
 */
export function claimsKit<const P extends readonly AnyPlugin[]>(options: ClaimsKitOptions<P>): ClaimsKit<P> {
  const where = "claimsKit";
  if (!options || !Array.isArray(options.plugins)) invalidOption(where, "plugins", "must be an array of plugins");
  const plugins = options.plugins;
  const clock = options.clock ?? Date.now;
  const log = options.logger ?? consoleLogger;
  const maxAge = options.maxAge ?? DEFAULT_MAX_AGE;
  if (options.issuer !== undefined && (typeof options.issuer !== "string" || options.issuer.length === 0)) {
    invalidOption(where, "issuer", "must be a non-empty string");
  }
  if (!Number.isSafeInteger(maxAge) || maxAge <= 0) invalidOption(where, "maxAge", "must be a positive integer (seconds)");

  const registry = options.sessions;
  const fresh = { checkEvery: options.freshness?.checkEvery ?? 0, maxAge: options.freshness?.maxAge, touchEvery: options.freshness?.touchEvery ?? 300 };
  for (const [name, value] of Object.entries(fresh)) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) invalidOption(where, `freshness.${name}`, "must be a whole number of seconds (0 or more)");
  }
  if (options.freshness && !registry && (options.freshness.checkEvery !== undefined || options.freshness.touchEvery !== undefined)) {
    invalidOption(where, "sessions", "is required for freshness.checkEvery/touchEvery (they check the session registry)");
  }
  const staged = new Map<string, { patch: unknown; expires: number; sid: string }>();
  const claimMaxBytes = options.claimMaxBytes ?? DEFAULT_CLAIM_MAX_BYTES;
  if (!Number.isSafeInteger(claimMaxBytes) || claimMaxBytes < 16) invalidOption(where, "claimMaxBytes", "must be a whole number of bytes, at least 16");

  const owners = new Map<string, { plugin: string; visibility: Visibility }>();
  const intents = new Map<string, { plugin: AnyPlugin; index: number; spec: IntentSpec }>();
  const ids = new Set<string>();
  plugins.forEach((plugin, index) => {
    const at = `${where}: plugins[${index}]`;
    if (!plugin || typeof plugin !== "object") invalidOption(at, "plugins", "must be a plugin object");
    if (typeof plugin.id !== "string" || !PLUGIN_ID.test(plugin.id)) {
      invalidOption(at, "id", `must match ${PLUGIN_ID} (got ${JSON.stringify(plugin.id)})`);
    }
    if (plugin.id === "kit") invalidOption(at, "id", 'must not be "kit" (the kit records its own errors under that id)');
    if (ids.has(plugin.id)) throw new ClaimsKitError("duplicate_plugin", `${at}: plugin id "${plugin.id}" is used twice`);
    ids.add(plugin.id);
    if (!isPlainObject(plugin.claims)) invalidOption(`${at} (${plugin.id})`, "claims", "must be an object of claim specs");
    for (const [name, spec] of Object.entries(plugin.claims as Record<string, ClaimSpec>)) {
      if (PROTECTED_CLAIMS.has(name)) {
        throw new ClaimsKitError("claim_protected", `${at} (${plugin.id}): claim "${name}" is protected and cannot be declared`);
      }
      if (!CLAIM_NAME.test(name) || FORBIDDEN_NAMES.has(name)) invalidOption(`${at} (${plugin.id})`, `claims.${name}`, "is not a valid claim name");
      if (!spec || !["client", "token", "server"].includes(spec.visibility)) {
        invalidOption(`${at} (${plugin.id})`, `claims.${name}.visibility`, 'must be "client", "token" or "server"');
      }
      if (spec.maxBytes !== undefined && (!Number.isSafeInteger(spec.maxBytes) || spec.maxBytes < 2)) {
        invalidOption(`${at} (${plugin.id})`, `claims.${name}.maxBytes`, "must be a whole number of bytes (2 or more)");
      }
      if (spec.visibility !== "server" && SENSITIVE_NAME.test(name)) {
        throw new ClaimsKitError("claim_sensitive", `${at} (${plugin.id}): claim "${name}" looks sensitive; keep it out of the token (visibility "server") or rename it`);
      }
      const prior = owners.get(name);
      if (prior) throw new ClaimsKitError("claim_conflict", `${at} (${plugin.id}): claim "${name}" is already owned by plugin "${prior.plugin}"`);
      owners.set(name, { plugin: plugin.id, visibility: spec.visibility });
      if (spec.visibility === "server" && !options.serverStore) {
        invalidOption(where, "serverStore", `is required: plugin "${plugin.id}" declares server-side claim "${name}"`);
      }
    }
    for (const half of ["load", "jwt", "finalize"] as const) {
      if (plugin[half] !== undefined && typeof plugin[half] !== "function") invalidOption(`${at} (${plugin.id})`, half, "must be a function");
    }
    if (plugin.maxAge !== undefined && (!Number.isSafeInteger(plugin.maxAge) || plugin.maxAge <= 0)) invalidOption(`${at} (${plugin.id})`, "maxAge", "must be a positive whole number of seconds");
    if (plugin.finalize && index !== plugins.length - 1) invalidOption(`${at} (${plugin.id})`, "plugins", "with a finalize step (e.g. sizeBudget) must come last");
    if (plugin.needs?.serverStore && !options.serverStore) invalidOption(where, "serverStore", `is required by plugin "${plugin.id}"`);
    for (const [name, spec] of Object.entries(plugin.intents ?? {})) {
      if (!INTENT_NAME.test(name) || FORBIDDEN_NAMES.has(name)) invalidOption(`${at} (${plugin.id})`, `intents.${name}`, "is not a valid intent name");
      if (name === REFRESH_INTENT || intents.has(name)) {
        throw new ClaimsKitError("claim_conflict", `${at} (${plugin.id}): intent "${name}" is already defined${name === REFRESH_INTENT ? " by the kit" : ` by plugin "${intents.get(name)?.plugin.id}"`}`);
      }
      if (!spec?.input?.["~standard"] || typeof spec.handle !== "function") {
        invalidOption(`${at} (${plugin.id})`, `intents.${name}`, "needs an `input` Standard Schema (e.g. zod) and a `handle` function");
      }
      intents.set(name, { plugin, index, spec });
    }
  });
  const clientClaims = [...owners].filter(([, o]) => o.visibility === "client").map(([name]) => name);

  const toShort = new Map<string, string>();
  const toLong = new Map<string, string>();
  for (const [long, short] of Object.entries(options.keys ?? {})) {
    const bad = (problem: string) => invalidOption(where, `keys.${long}`, problem);
    if (PROTECTED_CLAIMS.has(long) || PROTECTED_CLAIMS.has(short)) bad("cannot rename or shadow a protected claim");
    if (typeof short !== "string" || !CLAIM_NAME.test(short) || FORBIDDEN_NAMES.has(short)) bad("must be a valid claim name");
    if (owners.has(short) || ["name", "email", "picture"].includes(short) || toLong.has(short)) bad(`short key "${short}" is already a claim name or another key`);
    toShort.set(long, short);
    toLong.set(short, long);
  }
  const rename = (token: Record<string, unknown>, map: Map<string, string>): Record<string, unknown> => {
    if (map.size === 0) return token;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(token)) out[map.get(key) ?? key] = value;
    return out;
  };
  const expand = (token: Record<string, unknown>) => rename(token, toLong);
  const stored = (token: Readonly<Record<string, unknown>>) => rename(token, toShort);
  const finalizer = plugins.at(-1)?.finalize ? plugins.at(-1)! : undefined;
  const churn = new Map<string, { calls: number; changes: number; warned: boolean }>();

  const nowSeconds = () => Math.floor(clock() / 1000);

  const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
  /** Codes of failures that may pass on their own (a database hiccup), as opposed to a refusal by the rules. */
  const TRANSIENT_CODES = new Set(["load_failed", "plugin_failed"]);

  function recordError(w: Work, pluginId: string, half: string, code: string, detail: string): void {
    w.k.e = { ...w.k.e, [pluginId]: { code, at: nowSeconds() } };
    log.warn(`${code} plugin=${pluginId} step=${half}: ${detail}`);
  }

  function clearError(w: Work, pluginId: string): void {
    if (w.k.e && pluginId in w.k.e) {
      const { [pluginId]: _gone, ...rest } = w.k.e;
      w.k.e = Object.keys(rest).length > 0 ? rest : undefined;
    }
  }

  /** Record a step's outcome on the token: its error, or the end of an earlier one. */
  function settle(w: Work, plugin: AnyPlugin, half: string, outcome: Outcome): void {
    if (outcome.ok) clearError(w, plugin.id);
    else recordError(w, plugin.id, half, outcome.code, outcome.detail);
  }

  /**
   * Check a patch against the claim rules; returns the refusal, or null when it may be applied.
   * Never throws: a claim's own check that throws is a refusal like one that returns false.
   */
  function refusal(plugin: AnyPlugin, patch: unknown): Failure | null {
    if (patch === undefined) return null;
    try {
      if (!isPlainObject(patch)) return { ok: false, code: "claim_invalid", detail: "a patch must be a plain object" };
      for (const key of Object.keys(patch)) {
        if (PROTECTED_CLAIMS.has(key)) return { ok: false, code: "claim_protected", detail: `"${key}" is protected` };
        if (!Object.hasOwn(plugin.claims, key)) {
          const owner = owners.get(key)?.plugin;
          return { ok: false, code: "claim_not_owned", detail: owner ? `"${key}" belongs to plugin "${owner}"` : `"${key}" is not declared by this plugin` };
        }
        const value = patch[key];
        if (value === undefined || value === null) continue;
        const spec = plugin.claims[key]!;
        if (spec.check && !spec.check(value)) return { ok: false, code: "claim_invalid", detail: `value for "${key}" fails its check` };
        const json = encodeJson(value);
        if (json === undefined) return { ok: false, code: "claim_invalid", detail: `value for "${key}" is not JSON (BigInt, cycle…): a token must encode` };
        const limit = spec.maxBytes ?? claimMaxBytes;
        if (spec.visibility !== "server" && utf8Bytes(json) > limit) {
          return { ok: false, code: "claim_invalid", detail: `value for "${key}" is ${utf8Bytes(json)} bytes encoded, over its limit of ${limit}` };
        }
        if (spec.visibility === "client" && typeof value === "string" && SENSITIVE_VALUE.some((re) => re.test(value))) {
          return { ok: false, code: "claim_sensitive", detail: `value for "${key}" looks like a raw credential; client claims reach the browser` };
        }
      }
      return null;
    } catch (err) {
      return { ok: false, code: "claim_invalid", detail: `checking the patch threw: ${message(err)}` };
    }
  }

  /** Apply an already-checked patch; returns the names of claims whose value changed. */
  function apply(plugin: AnyPlugin, patch: Claims, w: Work): string[] {
    const changed: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      const target = plugin.claims[key]!.visibility === "server" ? w.server : w.token;
      if (value === null) {
        if (target === w.server || key in w.token) changed.push(key);
        if (target === w.server) w.server[key] = null;
        else delete w.token[key];
      } else {
        if (JSON.stringify(target[key]) !== JSON.stringify(value)) changed.push(key);
        target[key] = value;
      }
    }
    return changed;
  }

  function baseContext(w: Work): BaseContext {
    const sub = w.token.sub;
    return { token: w.token, userId: typeof sub === "string" ? sub : undefined, now: nowSeconds(), log };
  }

  /** Run one plugin hook and apply its patch to `w` when the rules accept it. Records nothing. */
  async function step(plugin: AnyPlugin, half: "load" | "jwt" | "intent", w: Work, run: () => unknown): Promise<Outcome<{ changed: string[] }>> {
    let patch: unknown;
    try {
      patch = await run();
    } catch (err) {
      return { ok: false, code: codeOf(err, half === "load" ? "load_failed" : "plugin_failed"), detail: message(err) };
    }
    const refused = refusal(plugin, patch);
    if (refused) return refused;
    const changed = patch === undefined ? [] : apply(plugin, patch as Claims, w);
    if (half === "jwt" && process.env.NODE_ENV !== "production") noteChurn(plugin, changed);
    return { ok: true, changed };
  }

  /** In development, warn once about a claim that changes on most requests: a cookie is the wrong home for it. */
  function noteChurn(plugin: AnyPlugin, changed: string[]): void {
    for (const name of Object.keys(plugin.claims)) {
      const c = churn.get(name) ?? { calls: 0, changes: 0, warned: false };
      c.calls++;
      if (changed.includes(name)) c.changes++;
      churn.set(name, c);
      if (!c.warned && c.calls >= CHURN_MIN_CALLS && c.changes / c.calls > 0.5) {
        c.warned = true;
        log.warn(`claim "${name}" (plugin ${plugin.id}) changed on ${c.changes} of ${c.calls} requests: every change rewrites the cookie and is stale on the next request; keep it server-side`);
      }
    }
  }

  function loadCtx(w: Work, reason: LoadReason, params?: JwtParams): LoadContext {
    return {
      ...baseContext(w),
      reason,
      user: params?.user ?? undefined,
      account: params?.account as LoadContext["account"],
      profile: params?.profile as LoadContext["profile"],
    };
  }

  /**
   * (Re)load every plugin's claims, all or nothing: on any failure the claims stay as they were
   * (half-derived claims, such as a new role with the old role's permission bits, are worse than
   * stale ones), the failures are recorded, and the load time is not advanced, so the next request
   * tries again. At sign-in there is nothing older to keep: what loaded is kept, marked as never
   * fully loaded. Returns whether every load succeeded.
   */
  async function loadAll(w: Work, reason: LoadReason, params?: JwtParams, byAge = false): Promise<boolean> {
    const next = cloneWork(w);
    const failed: Array<[AnyPlugin, Failure]> = [];
    for (const plugin of plugins) {
      // A reload because the kit's max age passed leaves plugins that set their own max age alone.
      if (!plugin.load || (byAge && plugin.maxAge !== undefined)) continue;
      const outcome = await step(plugin, "load", next, () => plugin.load!(loadCtx(next, reason, params)));
      if (outcome.ok) clearError(next, plugin.id);
      else failed.push([plugin, outcome]);
    }
    if (failed.length > 0) {
      if (reason === "signIn") Object.assign(w, next, { k: { ...next.k, l: 0 } });
      for (const [plugin, failure] of failed) settle(w, plugin, "load", failure);
      return false;
    }
    next.k.l = nowSeconds();
    if (!byAge) {
      // Plugins with their own max age count from their own last load, not the kit's.
      const own = plugins.filter((p) => p.load && p.maxAge !== undefined).map((p) => [p.id, next.k.l!] as const);
      next.k.lp = own.length > 0 ? Object.fromEntries(own) : undefined;
    }
    Object.assign(w, next);
    return true;
  }

  /** Re-load claims past their max age: everything past the kit's, or single plugins past their own. */
  async function reloadStale(w: Work): Promise<void> {
    const now = nowSeconds();
    // Never fully loaded (a load failed at sign-in): try everything again.
    if (!w.k.l) {
      await loadAll(w, "refresh");
      return;
    }
    if (fresh.maxAge !== undefined && now - w.k.l >= fresh.maxAge) await loadAll(w, "refresh", undefined, true);
    for (const [index, plugin] of plugins.entries()) {
      if (!plugin.load || plugin.maxAge === undefined) continue;
      if (now - (w.k.lp?.[plugin.id] ?? w.k.l) < plugin.maxAge) continue;
      // All or nothing, like loadAll: the plugin and what derives from it, or none of it.
      const next = cloneWork(w);
      const loaded = await step(plugin, "load", next, () => plugin.load!(loadCtx(next, "refresh")));
      const outcome = loaded.ok ? await reloadDependents(next, index, new Set(loaded.changed)) : loaded;
      if (!outcome.ok) {
        settle(w, plugin, "load", outcome);
        continue; // its load time stays: retried on the next request
      }
      clearError(next, plugin.id);
      next.k.lp = { ...next.k.lp, [plugin.id]: now };
      Object.assign(w, next);
    }
  }

  /** After claims changed, re-load later plugins that derive from them. Stops at the first failure. */
  async function reloadDependents(w: Work, from: number, changed: Set<string>): Promise<Outcome> {
    for (let i = from + 1; i < plugins.length; i++) {
      const plugin: AnyPlugin = plugins[i]!;
      if (!plugin.load || !plugin.reloadOn?.some((c: string) => changed.has(c))) continue;
      const result = await step(plugin, "load", w, () => plugin.load!(loadCtx(w, "dependency")));
      if (!result.ok) return { ok: false, code: result.code, detail: `dependent plugin "${plugin.id}": ${result.detail}` };
      result.changed.forEach((c) => changed.add(c));
    }
    return { ok: true };
  }

  /**
   * Record a rejected update. Only names the kit knows are recorded: a client-chosen string never
   * rides in the token (it would grow the cookie past its budget).
   */
  function reject(w: Work, intent: unknown, nonce: string | undefined, code: KitErrorCode | string, detail: string): Work {
    const known = typeof intent === "string" && (intent === SERVER_INTENT || intent === REFRESH_INTENT || intents.has(intent)) ? intent : "";
    w.k.u = { i: known, ...(nonce ? { n: nonce } : {}), c: code };
    log.warn(`update rejected: ${code}${known ? ` intent=${known}` : ""}: ${detail}`);
    return w;
  }

  /** Accept an update's result: within the size budget, or rejected whole. */
  async function accept(w: Work, next: Work, intent: string, nonce: string | undefined, commit?: () => Awaitable<void>): Promise<Work> {
    const budget = await finalize(next, false);
    if (!budget.ok) return reject(w, intent, nonce, budget.code, budget.detail);
    if (commit) {
      // Side effects last: after every rule, dependent and the budget accepted the patch.
      try {
        await commit();
      } catch (err) {
        return reject(w, intent, nonce, codeOf(err, "plugin_failed"), `commit failed: ${message(err)}`);
      }
    }
    next.k.u = { i: intent, ...(nonce ? { n: nonce } : {}) };
    return next;
  }

  /** Handle `trigger === "update"`: returns the work to keep (the original one when rejected). */
  async function update(w: Work, data: unknown): Promise<Work> {
    // A POST without data (upstream #11002: next-auth's update() without an argument does not
    // even POST) is a bare refresh: it only re-derives claims on the server.
    if (data === undefined) data = { intent: REFRESH_INTENT };
    if (!isPlainObject(data)) return reject(w, "", undefined, "update_malformed", "update() payload must be an object { intent, input?, nonce? }");
    const extra = Object.keys(data).filter((key) => !["intent", "input", "nonce"].includes(key));
    const { intent, input, nonce } = data;
    if (intent === SERVER_INTENT && extra.length === 0 && input === undefined && typeof nonce === "string") {
      const entry = staged.get(nonce);
      staged.delete(nonce);
      // Bound to the session that staged it: a nonce leaked to another session is useless there.
      if (!entry || entry.expires < clock() || typeof w.token.sub !== "string" || entry.sid !== w.k.sid) {
        return reject(w, SERVER_INTENT, undefined, "forbidden", "no server update staged under that nonce for this session in this process");
      }
      const next = cloneWork(w);
      const applied = await serverPatch(next, entry.patch);
      return applied.ok ? accept(w, next, SERVER_INTENT, nonce) : reject(w, SERVER_INTENT, nonce, applied.code, applied.detail);
    }
    const okNonce = nonce === undefined || (typeof nonce === "string" && NONCE.test(nonce));
    if (typeof intent !== "string" || !INTENT_NAME.test(intent) || extra.length > 0 || !okNonce) {
      const what = extra.length > 0 ? `${extra.length} unexpected key(s)` : "intent must be a name and nonce a short id";
      return reject(w, intent, undefined, "update_malformed", what);
    }
    const n = nonce as string | undefined;
    if (typeof w.token.sub !== "string") return reject(w, intent, n, "not_signed_in", "no user on the token");
    const next = cloneWork(w);
    if (intent === REFRESH_INTENT) {
      if (input !== undefined) return reject(w, intent, n, "invalid_input", "refreshClaims takes no input");
      if (!(await loadAll(next, "refresh"))) return reject({ ...w, k: { ...w.k, e: next.k.e } }, intent, n, "load_failed", "a claim could not be re-loaded");
      return accept(w, next, intent, n);
    }
    const entry = intents.get(intent);
    if (!entry) return reject(w, intent, n, "unknown_intent", "no plugin declares this intent");
    let result: StandardResult<unknown>;
    try {
      result = await entry.spec.input["~standard"].validate(input);
      if (!isPlainObject(result) && (typeof result !== "object" || result === null)) throw new TypeError("the schema returned no result");
    } catch (err) {
      return reject(w, intent, n, "invalid_input", `the input schema threw: ${message(err)}`);
    }
    if (result.issues) {
      const first = result.issues[0];
      const path = (first?.path ?? []).map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".");
      return reject(w, intent, n, "invalid_input", `${path ? `${path}: ` : ""}${first?.message ?? "invalid"}`);
    }
    const value = result.value;
    const handled = await step(entry.plugin, "intent", next, () => entry.spec.handle(value, baseContext(next)));
    if (!handled.ok) return reject(w, intent, n, handled.code, `plugin "${entry.plugin.id}": ${handled.detail}`);
    const dependents = await reloadDependents(next, entry.index, new Set(handled.changed));
    if (!dependents.ok) return reject(w, intent, n, dependents.code, dependents.detail);
    const commit = entry.spec.commit;
    return accept(w, next, intent, n, commit ? () => commit(value, baseContext(next)) : undefined);
  }

  /**
   * Check a patch written by server code (online or offline): any declared claim, whoever owns it,
   * but never a protected one, and each value must pass its claim's rules.
   */
  function checkPatch(patch: unknown): Outcome<{ groups: Map<number, Claims> }> {
    if (!isPlainObject(patch)) return { ok: false, code: "claim_invalid", detail: "a patch must be a plain object" };
    const groups = new Map<number, Claims>();
    for (const key of Object.keys(patch)) {
      if (PROTECTED_CLAIMS.has(key)) return { ok: false, code: "claim_protected", detail: `"${key}" is protected` };
      const owner = owners.get(key);
      if (!owner) return { ok: false, code: "claim_not_owned", detail: `"${key}" is not declared by any plugin` };
      const index = plugins.findIndex((p) => p.id === owner.plugin);
      groups.set(index, { ...groups.get(index), [key]: patch[key] });
    }
    for (const [index, part] of groups) {
      const refused = refusal(plugins[index]!, part);
      if (refused) return refused;
    }
    return { ok: true, groups };
  }

  /** Apply a server patch to `w` (a copy: on failure the caller drops it) and re-derive dependents. */
  async function serverPatch(w: Work, patch: unknown): Promise<Outcome> {
    const checked = checkPatch(patch);
    if (!checked.ok) return checked;
    const changed = new Set<string>();
    for (const [index, part] of checked.groups) apply(plugins[index]!, part, w).forEach((c) => changed.add(c));
    return reloadDependents(w, Math.min(...checked.groups.keys()), changed);
  }

  /** Check the session against the registry. Returns false when the session must end. */
  async function checkSession(w: Work): Promise<boolean> {
    if (!registry || !w.k.sid) return true;
    const now = nowSeconds();
    if (w.k.c !== undefined && now - w.k.c < fresh.checkEvery) return true;
    let state;
    try {
      state = await registry.check(w.k.sid);
    } catch (err) {
      // Fail open on a transient database error: the check runs again on the next request.
      recordError(w, "kit", "sessions", "plugin_failed", message(err));
      return true;
    }
    if (!state || state.revoked || (w.k.ep !== undefined && state.epoch !== w.k.ep)) {
      log.info(`session ended: ${!state ? "unknown session" : state.revoked ? "revoked" : "global epoch changed"}`);
      return false;
    }
    w.k.c = now;
    // The version advances only with a complete reload: a failed one is tried again next request.
    if (state.claimsVersion !== w.k.v && (await loadAll(w, "refresh"))) w.k.v = state.claimsVersion;
    if (state.pendingPatch) await applyOffline(w, state.pendingPatch);
    if (now - state.lastSeenAt >= fresh.touchEvery) await registry.touch(w.k.sid, now).catch(() => undefined);
    return true;
  }

  /**
   * Apply the session's offline patch, stored as `{ id, patch }` and cumulative (every change queued
   * since the last claims-version bump, merged). It is never cleared by a request: any copy of the
   * cookie whose last applied id differs (an older tab's response, a replay, a render that could
   * not save its cookie) applies it, so every copy converges on the same claims.
   */
  async function applyOffline(w: Work, pending: string): Promise<void> {
    let queued: { id?: unknown; patch?: unknown } | null = null;
    try {
      queued = JSON.parse(pending) as { id?: unknown; patch?: unknown };
    } catch {
      queued = null;
    }
    const id = typeof queued?.id === "string" ? queued.id : undefined;
    if (!id || id === w.k.op) return;
    const next = cloneWork(w);
    const applied = await serverPatch(next, queued?.patch);
    if (applied.ok) {
      Object.assign(w, next);
      w.k.op = id;
      return;
    }
    recordError(w, "kit", "offline", applied.code, applied.detail);
    // A refusal by the rules is final; a failed dependent load is tried again on the next request.
    if (!TRANSIENT_CODES.has(applied.code)) w.k.op = id;
  }

  function needRegistry(): SessionRegistry {
    if (!registry) invalidOption(where, "sessions", "is required for session management (pass a SessionRegistry)");
    return registry;
  }

  /** For server APIs that take a patch: the same rules, thrown as start-of-call errors. */
  function assertPatch(patch: unknown): Claims {
    const checked = checkPatch(patch);
    if (!checked.ok) throw new ClaimsKitError(checked.code as KitErrorCode, checked.detail);
    return patch as Claims;
  }

  function sid(token: JWT | null | undefined): string | undefined {
    const k = token?._k as Bookkeeping | undefined;
    return typeof k?.sid === "string" ? k.sid : undefined;
  }

  /** Sign-in: a new session id, recorded in the registry, and every claim loaded. */
  async function signIn(w: Work, params: JwtParams): Promise<void> {
    w.k = { sid: crypto.randomUUID() };
    if (options.issuer) w.token.iss = options.issuer;
    const info = await Promise.resolve(options.requestInfo?.()).catch(() => undefined);
    // The session this browser had before (a re-sign-in, the re-auth watcher) ends here: its
    // cookie is being replaced, and a copy of it must not stay valid.
    const previous = sid(info?.previousToken);
    if (registry && previous) await registry.revoke({ sid: previous }, nowSeconds()).catch((err: unknown) => log.warn(`plugin_failed plugin=kit step=signIn.revokePrevious: ${message(err)}`));
    if (registry && typeof w.token.sub === "string") {
      // Recorded (and the claims version read) before the loads, so a bump during them is not missed.
      // A sign-in the registry cannot record would be a session it can never check: fail the sign-in.
      const created = await registry.create({ sid: w.k.sid!, userId: w.token.sub, userAgent: info?.userAgent ?? null, now: nowSeconds() });
      w.k.v = created.claimsVersion;
      w.k.ep = created.epoch;
      w.k.c = nowSeconds();
    }
    await loadAll(w, "signIn", params);
  }

  /** Every request after sign-in: registry check, update, stale reloads, the plugins' jwt hooks. */
  async function request(w: Work, params: JwtParams): Promise<Work | null> {
    if (!(await checkSession(w))) return null;
    if (params.trigger === "update") w = await update(w, params.session);
    await reloadStale(w);
    return w;
  }

  async function jwt(params: JwtParams): Promise<JWT | null> {
    const signingIn = (params.trigger === "signIn" || params.trigger === "signUp") && !!params.user;
    try {
      let w: Work | null = { token: expand({ ...params.token }), k: { ...((params.token._k as Bookkeeping | undefined) ?? {}) }, server: {} };
      if (signingIn) await signIn(w, params);
      else w = await request(w, params);
      if (!w) return null;
      for (const plugin of plugins) {
        if (!plugin.jwt) continue;
        let reported: { code: string; detail: string } | undefined;
        const report = (code: string, detail: string) => void (reported = { code, detail });
        const ctx = { ...baseContext(w), trigger: params.trigger, report };
        const outcome = await step(plugin, "jwt", w, () => plugin.jwt!(ctx));
        if (!outcome.ok) settle(w, plugin, "jwt", outcome);
        else if (!reported) clearError(w, plugin.id);
        // A failure the plugin keeps reporting is recorded once, not logged on every request.
        else if (w.k.e?.[plugin.id]?.code !== reported.code) recordError(w, plugin.id, "jwt", reported.code, reported.detail);
      }
      const budget = await finalize(w, signingIn);
      // At sign-in a token over budget with only required claims refuses the sign-in (a throw).
      if (!budget.ok && signingIn) throw new ClaimsKitError(budget.code as KitErrorCode, budget.detail);
      if (Object.keys(w.server).length > 0 && options.serverStore && w.k.sid && typeof w.token.sub === "string") {
        try {
          await options.serverStore.write(`s:${w.k.sid}`, w.token.sub, w.server, new Date((nowSeconds() + maxAge) * 1000));
        } catch (err) {
          recordError(w, "kit", "serverStore", "plugin_failed", message(err));
        }
      }
      for (const key of ["e", "d", "m", "lp"] as const) if (w.k[key] === undefined) delete w.k[key];
      w.token._k = w.k;
      return stored(w.token) as JWT;
    } catch (err) {
      // At sign-in a throw refuses the sign-in, as intended. After it, a throw would sign the user
      // out (Auth.js clears the cookie): keep the token as it came, with the failure recorded.
      if (signingIn) throw err;
      log.error(`plugin_failed plugin=kit step=jwt: unexpected ${message(err)}`);
      const k = { ...((params.token._k as Bookkeeping | undefined) ?? {}) };
      k.e = { ...k.e, kit: { code: "plugin_failed", at: nowSeconds() } };
      return { ...params.token, _k: k } as JWT;
    }
  }

  /**
   * The size budget's verdict on the token (`sizeBudget`): drops and moves applied to `w`; a token
   * still over budget with only required claims is a failure (recorded unless signing in, where
   * the caller refuses the sign-in).
   */
  async function finalize(w: Work, signingIn: boolean): Promise<Outcome> {
    if (!finalizer) return { ok: true };
    const plugin = finalizer;
    let result: FinalizeResult | undefined;
    try {
      w.token._k = w.k;
      const report = (code: string, detail: string) => recordError(w, plugin.id, "finalize", code, detail);
      result = await plugin.finalize!({ ...baseContext(w), trigger: undefined, signingIn, claims: owners, stored, report });
    } catch (err) {
      recordError(w, plugin.id, "finalize", codeOf(err, "plugin_failed"), message(err));
      return { ok: true };
    } finally {
      delete w.token._k;
    }
    if (!result) return { ok: true };
    const removable = (name: string) => !PROTECTED_CLAIMS.has(name) && name in w.token;
    const dropped = (result.drop ?? []).filter(removable);
    const moved = (result.move ?? []).filter(removable);
    for (const name of moved) w.server[name] = w.token[name];
    for (const name of [...dropped, ...moved]) delete w.token[name];
    w.k.d = dropped.length > 0 ? dropped : undefined;
    // Earlier moves stay recorded (their values are still server-side) unless the claim came back.
    const stillMoved = (w.k.m ?? []).filter((name) => !(name in w.token) && !moved.includes(name));
    w.k.m = [...stillMoved, ...moved];
    if (w.k.m?.length === 0) w.k.m = undefined;
    if (result.refuse) {
      if (!signingIn) recordError(w, plugin.id, "finalize", result.refuse.code, result.refuse.message);
      return { ok: false, code: result.refuse.code, detail: result.refuse.message };
    }
    if (result.error) recordError(w, plugin.id, "finalize", result.error.code, result.error.detail);
    else clearError(w, plugin.id);
    return { ok: true };
  }

  async function session({ session, token: raw }: SessionParams): Promise<Session> {
    const token = expand(raw);
    const claims: Claims = {};
    for (const name of clientClaims) if (token[name] !== undefined) claims[name] = token[name];
    const k = (token._k as Bookkeeping | undefined) ?? {};
    const movedClient = (k.m ?? []).filter((name) => owners.get(name)?.visibility === "client");
    if (movedClient.length > 0 && options.serverStore && k.sid) {
      // Moved by the size budget: still part of the session, read back from server-side data.
      const data = await options.serverStore.read(`s:${k.sid}`).catch(() => null);
      for (const name of movedClient) if (data?.[name] !== undefined && data[name] !== null) claims[name] = data[name];
    }
    const out: KitSession = {
      user: { ...session.user, id: typeof token.sub === "string" ? token.sub : "" },
      expires: session.expires,
      claims,
    };
    if (k.e) out.errors = Object.fromEntries(Object.entries(k.e).map(([id, e]) => [id, e.code]));
    if (k.u) out.update = { intent: k.u.i, ...(k.u.n ? { nonce: k.u.n } : {}), ...(k.u.c ? { code: k.u.c } : {}) };
    return out as unknown as Session;
  }

  return {
    callbacks: { jwt, session },
    events: {
      async signOut(message) {
        const id = "token" in message ? sid(message.token) : undefined;
        if (!id) return;
        // Revoke first and on its own: a copied cookie must stop working even if cleanup fails.
        for (const [label, run] of [
          ["revoke", () => registry?.revoke({ sid: id }, nowSeconds())],
          ["serverStore", () => options.serverStore?.remove(`s:${id}`)],
        ] as const) {
          try {
            await run();
          } catch (err) {
            log.warn(`plugin_failed plugin=kit step=signOut.${label}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      },
    },
    stageServerUpdate(patch, token) {
      assertPatch(patch);
      const owner = sid(token);
      if (!owner) throw new ClaimsKitError("not_signed_in", "stageServerUpdate: the token has no session id (pass the current session's decoded token)");
      const now = clock();
      for (const [key, entry] of staged) if (entry.expires < now) staged.delete(key);
      const nonce = crypto.randomUUID().replaceAll("-", "");
      staged.set(nonce, { patch, expires: now + STAGED_TTL_MS, sid: owner });
      return { intent: SERVER_INTENT, nonce };
    },
    sessions: {
      list: async (userId) => needRegistry().list(userId),
      revoke: async (id) => needRegistry().revoke({ sid: id }, nowSeconds()),
      revokeAll: async (userId, opts) => needRegistry().revoke({ userId, except: opts?.except }, nowSeconds()),
      refreshClaims: async (userId) => needRegistry().bumpClaimsVersion(userId),
      updateOffline: async (userId, patch) => needRegistry().queuePatch(userId, assertPatch(patch)),
      bumpEpoch: async () => needRegistry().bumpEpoch(),
    },
    sessionId: sid,
    async isActive(token) {
      if (!token) return false;
      const id = sid(token);
      if (!registry) return true;
      if (!id) return false;
      const state = await registry.check(id);
      const k = token._k as Bookkeeping | undefined;
      return !!state && !state.revoked && (k?.ep === undefined || state.epoch === k.ep);
    },
    expand: (token) => expand(token) as JWT,
    stored,
    plugins,
    claims: owners,
    intents: new Map([[REFRESH_INTENT, "kit"], ...[...intents].map(([name, e]) => [name, e.plugin.id] as [string, string])]),
    async readServerData(token) {
      const id = sid(token);
      if (!id || !options.serverStore) return {};
      const data = (await options.serverStore.read(`s:${id}`)) ?? {};
      return Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null)) as Partial<ServerClaimsOf<P>>;
    },
  };
}
