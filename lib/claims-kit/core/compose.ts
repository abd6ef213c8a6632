import type { JWT } from "@auth/core/jwt";
import type { Account, Profile, Session, User } from "@auth/core/types";
import { ClaimsKitError, codeOf, invalidOption, type KitErrorCode } from "./errors";
import type {
  AnyPlugin,
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
  ServerClaimsOf,
  ServerDataStore,
  SessionInfo,
  SessionRegistry,
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
const NONCE = /^[\w-]{1,64}$/;
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
  /** Describes the request at sign-in (user agent for the sessions list). Failures are ignored. */
  requestInfo?: () => Promise<{ userAgent?: string | null }> | { userAgent?: string | null };
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
   * stage one: the payload carries a one-time random nonce, useless to a client.
   */
  stageServerUpdate(patch: PatchOf<P>): { intent: typeof SERVER_INTENT; nonce: string };
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

function serialisable(value: unknown): boolean {
  try {
    return JSON.stringify(value) !== undefined;
  } catch {
    return false;
  }
}

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
  const staged = new Map<string, { patch: unknown; expires: number }>();

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

  /** Check a patch against ownership rules; returns the refusal, or null when it may be applied. */
  function refusal(plugin: AnyPlugin, patch: unknown): { code: KitErrorCode; detail: string } | null {
    if (patch === undefined) return null;
    if (!isPlainObject(patch)) return { code: "claim_invalid", detail: "a patch must be a plain object" };
    for (const key of Object.keys(patch)) {
      if (PROTECTED_CLAIMS.has(key)) return { code: "claim_protected", detail: `"${key}" is protected` };
      if (!Object.hasOwn(plugin.claims, key)) {
        const owner = owners.get(key)?.plugin;
        return { code: "claim_not_owned", detail: owner ? `"${key}" belongs to plugin "${owner}"` : `"${key}" is not declared by this plugin` };
      }
      const value = patch[key];
      const spec = plugin.claims[key]!;
      if (value !== undefined && value !== null && spec.check && !spec.check(value)) {
        return { code: "claim_invalid", detail: `value for "${key}" fails its check` };
      }
      if (value !== undefined && value !== null && !serialisable(value)) {
        return { code: "claim_invalid", detail: `value for "${key}" is not JSON (BigInt, cycle…): a token must encode` };
      }
      if (spec.visibility === "client" && typeof value === "string" && SENSITIVE_VALUE.some((re) => re.test(value))) {
        return { code: "claim_sensitive", detail: `value for "${key}" looks like a raw credential; client claims reach the browser` };
      }
    }
    return null;
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

  /**
   * Run one plugin half and apply its patch. On failure, record it (or, when `strict`, return the
   * code so an update can be rejected whole).
   */
  async function step(
    plugin: AnyPlugin,
    half: "load" | "jwt" | "intent",
    w: Work,
    run: () => unknown,
    strict: boolean,
  ): Promise<{ changed: string[] } | { code: string }> {
    let patch: unknown;
    try {
      patch = await run();
    } catch (err) {
      const code = codeOf(err, half === "load" ? "load_failed" : "plugin_failed");
      const detail = err instanceof Error ? err.message : String(err);
      if (!strict) recordError(w, plugin.id, half, code, detail);
      else log.warn(`${code} plugin=${plugin.id} step=${half}: ${detail}`);
      return { code };
    }
    const refused = refusal(plugin, patch);
    if (refused) {
      if (!strict) recordError(w, plugin.id, half, refused.code, refused.detail);
      else log.warn(`${refused.code} plugin=${plugin.id} step=${half}: ${refused.detail}`);
      return { code: refused.code };
    }
    clearError(w, plugin.id);
    const changed = patch === undefined ? [] : apply(plugin, patch as Claims, w);
    if (half === "jwt" && process.env.NODE_ENV !== "production") noteChurn(plugin, changed);
    return { changed };
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

  async function loadAll(w: Work, reason: LoadReason, params?: JwtParams, byAge = false): Promise<void> {
    for (const plugin of plugins) {
      // A reload because the kit's max age passed leaves plugins that set their own max age alone.
      if (plugin.load && !(byAge && plugin.maxAge !== undefined)) await step(plugin, "load", w, () => plugin.load!(loadCtx(w, reason, params)), false);
    }
    w.k.l = nowSeconds();
    if (!byAge) {
      // Plugins with their own max age count from their own last load, not the kit's.
      const own = plugins.filter((p) => p.load && p.maxAge !== undefined).map((p) => [p.id, w.k.l!] as const);
      w.k.lp = own.length > 0 ? Object.fromEntries(own) : undefined;
    }
  }

  /** Re-load claims past their max age: everything past the kit's, or single plugins past their own. */
  async function reloadStale(w: Work): Promise<void> {
    const now = nowSeconds();
    if (fresh.maxAge !== undefined && now - (w.k.l ?? 0) >= fresh.maxAge) await loadAll(w, "refresh", undefined, true);
    for (const [index, plugin] of plugins.entries()) {
      if (!plugin.load || plugin.maxAge === undefined) continue;
      if (now - (w.k.lp?.[plugin.id] ?? w.k.l ?? 0) < plugin.maxAge) continue;
      const result = await step(plugin, "load", w, () => plugin.load!(loadCtx(w, "refresh")), false);
      w.k.lp = { ...w.k.lp, [plugin.id]: now };
      if ("changed" in result) await reloadDependents(w, index, new Set(result.changed), false);
    }
  }

  /** After claims changed, re-load later plugins that derive from them. Strict: any failure is returned. */
  async function reloadDependents(w: Work, from: number, changed: Set<string>, strict: boolean): Promise<string | null> {
    for (let i = from + 1; i < plugins.length; i++) {
      const plugin: AnyPlugin = plugins[i]!;
      if (!plugin.load || !plugin.reloadOn?.some((c: string) => changed.has(c))) continue;
      const result = await step(plugin, "load", w, () => plugin.load!(loadCtx(w, "dependency")), strict);
      if ("code" in result) return result.code;
      result.changed.forEach((c) => changed.add(c));
    }
    return null;
  }

  function reject(w: Work, intent: string, nonce: string | undefined, code: KitErrorCode | string, detail: string): void {
    w.k.u = { i: intent, ...(nonce ? { n: nonce } : {}), c: code };
    log.warn(`update rejected: ${code} intent=${JSON.stringify(intent)}: ${detail}`);
  }

  /** Handle `trigger === "update"`: returns the work to keep (the original one when rejected). */
  async function update(w: Work, data: unknown): Promise<Work> {
    // A POST without data (upstream #11002: next-auth's update() without an argument does not
    // even POST) is a bare refresh: it only re-derives claims on the server.
    if (data === undefined) data = { intent: REFRESH_INTENT };
    if (!isPlainObject(data)) {
      reject(w, "", undefined, "update_malformed", "update() payload must be an object { intent, input?, nonce? }");
      return w;
    }
    const extra = Object.keys(data).filter((key) => !["intent", "input", "nonce"].includes(key));
    const { intent, input, nonce } = data;
    if (intent === SERVER_INTENT && extra.length === 0 && input === undefined && typeof nonce === "string") {
      const entry = staged.get(nonce);
      staged.delete(nonce);
      if (!entry || entry.expires < clock() || typeof w.token.sub !== "string") {
        reject(w, SERVER_INTENT, undefined, "forbidden", "no server update staged under that nonce in this process");
        return w;
      }
      const next = cloneWork(w);
      const refused = await serverPatch(next, entry.patch, true);
      if (refused) {
        reject(w, SERVER_INTENT, nonce, refused.code, refused.detail);
        return w;
      }
      next.k.u = { i: SERVER_INTENT, n: nonce };
      return next;
    }
    const okNonce = nonce === undefined || (typeof nonce === "string" && NONCE.test(nonce));
    if (typeof intent !== "string" || !INTENT_NAME.test(intent) || extra.length > 0 || !okNonce) {
      const what = extra.length > 0 ? `unexpected keys ${extra.slice(0, 3).map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}` : "intent must be a name and nonce a short id";
      reject(w, typeof intent === "string" ? intent.slice(0, 64) : "", undefined, "update_malformed", what);
      return w;
    }
    const n = nonce as string | undefined;
    if (typeof w.token.sub !== "string") {
      reject(w, intent, n, "not_signed_in", "no user on the token");
      return w;
    }
    const next = cloneWork(w);
    if (intent === REFRESH_INTENT) {
      if (input !== undefined) {
        reject(w, intent, n, "invalid_input", "refreshClaims takes no input");
        return w;
      }
      await loadAll(next, "refresh");
      next.k.u = { i: intent, ...(n ? { n } : {}) };
      return next;
    }
    const entry = intents.get(intent);
    if (!entry) {
      reject(w, intent, n, "unknown_intent", "no plugin declares this intent");
      return w;
    }
    const result = await entry.spec.input["~standard"].validate(input);
    if (result.issues) {
      const first = result.issues[0];
      const path = (first?.path ?? []).map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".");
      reject(w, intent, n, "invalid_input", `${path ? `${path}: ` : ""}${first?.message ?? "invalid"}`);
      return w;
    }
    const handled = await step(entry.plugin, "intent", next, () => entry.spec.handle(result.value, baseContext(next)), true);
    if ("code" in handled) {
      reject(w, intent, n, handled.code, `handler of plugin "${entry.plugin.id}" refused`);
      return w;
    }
    const failed = await reloadDependents(next, entry.index, new Set(handled.changed), true);
    if (failed) {
      reject(w, intent, n, failed, "a dependent claim could not be re-derived");
      return w;
    }
    next.k.u = { i: intent, ...(n ? { n } : {}) };
    return next;
  }

  /**
   * Apply a patch written by server code (online or offline): any declared claim, whoever owns it,
   * but never a protected one, and each value must pass its claim's check. Atomic.
   */
  async function serverPatch(w: Work, patch: unknown, strict: boolean): Promise<{ code: string; detail: string } | null> {
    if (!isPlainObject(patch)) return { code: "claim_invalid", detail: "a patch must be a plain object" };
    const groups = new Map<number, Claims>();
    for (const key of Object.keys(patch)) {
      if (PROTECTED_CLAIMS.has(key)) return { code: "claim_protected", detail: `"${key}" is protected` };
      const owner = owners.get(key);
      if (!owner) return { code: "claim_not_owned", detail: `"${key}" is not declared by any plugin` };
      const index = plugins.findIndex((p) => p.id === owner.plugin);
      groups.set(index, { ...groups.get(index), [key]: patch[key] });
    }
    for (const [index, part] of groups) {
      const refused = refusal(plugins[index]!, part);
      if (refused) return refused;
    }
    const changed = new Set<string>();
    for (const [index, part] of groups) apply(plugins[index]!, part, w).forEach((c) => changed.add(c));
    const failed = await reloadDependents(w, Math.min(...groups.keys()), changed, strict);
    return failed ? { code: failed, detail: "a dependent claim could not be re-derived" } : null;
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
      recordError(w, "kit", "sessions", "plugin_failed", err instanceof Error ? err.message : String(err));
      return true;
    }
    if (!state || state.revoked || (w.k.ep !== undefined && state.epoch !== w.k.ep)) {
      log.info(`session ended: ${!state ? "unknown session" : state.revoked ? "revoked" : "global epoch changed"}`);
      return false;
    }
    w.k.c = now;
    if (state.claimsVersion !== w.k.v) {
      await loadAll(w, "refresh");
      w.k.v = state.claimsVersion;
    }
    if (state.pendingPatch) {
      // Stored as { id, patch }. It is cleared only once a later request shows a token that
      // already carries its id: `auth()` in a Server Component cannot save the cookie, so the
      // first application may be lost, and the patch must survive until one is saved.
      let queued: { id?: unknown; patch?: unknown } | null = null;
      try {
        queued = JSON.parse(state.pendingPatch) as { id?: unknown; patch?: unknown };
      } catch {
        queued = null;
      }
      const id = typeof queued?.id === "string" ? queued.id : undefined;
      if (id && id === w.k.op) {
        await registry.clearPatch(w.k.sid, state.pendingPatch).catch(() => undefined);
      } else {
        const refused = await serverPatch(w, queued?.patch, false);
        if (refused) recordError(w, "kit", "offline", refused.code, refused.detail);
        w.k.op = id;
      }
    }
    if (now - state.lastSeenAt >= fresh.touchEvery) await registry.touch(w.k.sid, now).catch(() => undefined);
    return true;
  }

  function needRegistry(): SessionRegistry {
    if (!registry) invalidOption(where, "sessions", "is required for session management (pass a SessionRegistry)");
    return registry;
  }

  function checkServerPatch(patch: unknown): Claims {
    if (!isPlainObject(patch)) throw new ClaimsKitError("claim_invalid", "a patch must be a plain object");
    for (const key of Object.keys(patch)) {
      if (PROTECTED_CLAIMS.has(key)) throw new ClaimsKitError("claim_protected", `claim "${key}" is protected`);
      if (!owners.has(key)) throw new ClaimsKitError("claim_not_owned", `claim "${key}" is not declared by any plugin`);
    }
    return patch;
  }

  function sid(token: JWT | null | undefined): string | undefined {
    const k = token?._k as Bookkeeping | undefined;
    return typeof k?.sid === "string" ? k.sid : undefined;
  }

  async function jwt(params: JwtParams): Promise<JWT | null> {
    let w: Work = { token: expand({ ...params.token }), k: { ...((params.token._k as Bookkeeping | undefined) ?? {}) }, server: {} };
    if ((params.trigger === "signIn" || params.trigger === "signUp") && params.user) {
      w.k = { sid: crypto.randomUUID() };
      if (options.issuer) w.token.iss = options.issuer;
      if (registry && typeof w.token.sub === "string") {
        const info = await Promise.resolve(options.requestInfo?.()).catch(() => undefined);
        // Recorded (and the claims version read) before the loads, so a bump during them is not missed.
        // A sign-in the registry cannot record would be a session it can never check: fail the sign-in.
        const created = await registry.create({ sid: w.k.sid!, userId: w.token.sub, userAgent: info?.userAgent ?? null, now: nowSeconds() });
        w.k.v = created.claimsVersion;
        w.k.ep = created.epoch;
        w.k.c = nowSeconds();
      }
      await loadAll(w, "signIn", params);
    } else {
      if (!(await checkSession(w))) return null;
      if (params.trigger === "update") w = await update(w, params.session);
      await reloadStale(w);
    }
    for (const plugin of plugins) {
      if (plugin.jwt) {
        let reported: { code: string; detail: string } | undefined;
        const ctx = { ...baseContext(w), trigger: params.trigger, report: (code: string, detail: string) => void (reported = { code, detail }) };
        const result = await step(plugin, "jwt", w, () => plugin.jwt!(ctx), false);
        if (reported && "changed" in result) recordError(w, plugin.id, "jwt", reported.code, reported.detail);
      }
    }
    if (finalizer) await finalize(w, params);
    if (Object.keys(w.server).length > 0 && options.serverStore && w.k.sid && typeof w.token.sub === "string") {
      try {
        await options.serverStore.write(`s:${w.k.sid}`, w.token.sub, w.server, new Date((nowSeconds() + maxAge) * 1000));
      } catch (err) {
        recordError(w, "kit", "serverStore", "plugin_failed", err instanceof Error ? err.message : String(err));
      }
    }
    for (const key of ["e", "d", "m", "lp"] as const) if (w.k[key] === undefined) delete w.k[key];
    w.token._k = w.k;
    return stored(w.token) as JWT;
  }

  async function finalize(w: Work, params: JwtParams): Promise<void> {
    const plugin = finalizer!;
    const signingIn = params.trigger === "signIn" || params.trigger === "signUp";
    let result: FinalizeResult | undefined;
    try {
      w.token._k = w.k;
      result = await plugin.finalize!({ ...baseContext(w), trigger: params.trigger, signingIn, claims: owners, stored, report: (code, detail) => recordError(w, plugin.id, "finalize", code, detail) });
    } catch (err) {
      recordError(w, plugin.id, "finalize", codeOf(err, "plugin_failed"), err instanceof Error ? err.message : String(err));
      return;
    } finally {
      delete w.token._k;
    }
    if (!result) return;
    if (result.refuse && signingIn) throw new ClaimsKitError(result.refuse.code, result.refuse.message);
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
    if (result.error) recordError(w, plugin.id, "finalize", result.error.code, result.error.detail);
    else if (!result.refuse) clearError(w, plugin.id);
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
    stageServerUpdate(patch) {
      checkServerPatch(patch);
      const now = clock();
      for (const [key, entry] of staged) if (entry.expires < now) staged.delete(key);
      const nonce = crypto.randomUUID().replaceAll("-", "");
      staged.set(nonce, { patch, expires: now + STAGED_TTL_MS });
      return { intent: SERVER_INTENT, nonce };
    },
    sessions: {
      list: async (userId) => needRegistry().list(userId),
      revoke: async (id) => needRegistry().revoke({ sid: id }, nowSeconds()),
      revokeAll: async (userId, opts) => needRegistry().revoke({ userId, except: opts?.except }, nowSeconds()),
      refreshClaims: async (userId) => needRegistry().bumpClaimsVersion(userId),
      updateOffline: async (userId, patch) => needRegistry().queuePatch(userId, checkServerPatch(patch)),
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
