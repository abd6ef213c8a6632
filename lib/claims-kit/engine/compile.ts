// Compile claimsKit() options into a frozen runtime: every option checked at start-up, every
// error naming the option at fault.
import { ClaimsKitError, invalidOption } from "./errors";
import { META_CLAIM } from "./meta";
import { AUTH_CLAIMS } from "./auth-claims";
import type { ServerDataStore, SessionRegistry } from "./ports";
import type { AnyPlugin, Awaitable, ClaimMap, ClaimSpec, IntentSpec, KitLogger, RequestInfo, StandardSchemaV1, TokenView, Visibility } from "./types";

/**
 * Claims no plugin may write, on sign-in or later: the JWT's registered claims, Auth.js's subject,
 * the toolkit's bookkeeping, and what the id_token said about the authentication (`auth_time`,
 * `acr`, `amr`: only a new sign-in may change them, never a refresh or an update).
 *
 * @example
 * ```ts
 * PROTECTED_CLAIMS.has("sub"); // true
 * ```
 */
export const PROTECTED_CLAIMS: ReadonlySet<string> = new Set(["sub", "iat", "exp", "nbf", "jti", "iss", "aud", META_CLAIM, ...AUTH_CLAIMS]);

/**
 * The intent every kit has: re-run every plugin's `load` hook (for example after a tier upgrade).
 *
 * @example
 * ```ts
 * await update({ intent: REFRESH_INTENT });
 * ```
 */
export const REFRESH_INTENT = "refreshClaims";
/** Marks a server-side update staged in this process; not a valid client intent name. */
export const SERVER_INTENT = "$server";

const CLAIM_NAME = /^[A-Za-z_$][\w$]{0,63}$/;
/** Claim names that must never ride in a token (server-side visibility is fine). */
const SENSITIVE_NAME = /pass(word|wd|phrase)|secret|(^|_)ssn$|social.?security|api.?key|private.?key|credit.?card|card.?number|cvv/i;
const PLUGIN_ID = /^[a-z][a-z0-9-]{0,39}$/;
export const INTENT_NAME = /^[A-Za-z][\w.-]{0,63}$/;
export const FORBIDDEN_NAMES = new Set(["__proto__", "constructor", "prototype"]);
/** Auth.js's own claims, which plugins may read (`reloadOn`) but never declare. */
const AUTHJS_CLAIMS = ["name", "email", "picture"];
/**
 * Auth.js claims a client claim may be stored as: what the user is shown as. Never `email`, which
 * apps trust as an identity (allowlists, audit logs) and a client-writable claim must not replace.
 */
const TAKEOVER_CLAIMS = ["name", "picture"];
/** Ids the kit records its own errors under. */
const RESERVED_IDS = new Set(["kit", "budget"]);

/** A size budget for the whole token (see `sizeBudget()`): the kit's last word on every token. */
export interface TokenBudget {
  /** True when the budget may move claims server-side (then `serverStore` is required). */
  readonly movesClaims: boolean;
  decide(input: BudgetInput): Awaitable<BudgetDecision | undefined>;
}

/** What a budget gets to decide on. */
export interface BudgetInput {
  /** The token's claims (full names, without the kit's bookkeeping). */
  token: TokenView;
  /**
   * The token exactly as the cookie will carry it (short keys, bookkeeping), optionally with the
   * lists of claims the budget would drop and move (they are recorded in the token too).
   */
  stored(token: TokenView, lists?: { dropped: string[]; moved: string[] }): Record<string, unknown>;
  log: KitLogger;
  signingIn: boolean;
}

/** What a budget decides: claims to drop or move; a refusal when only required claims are left. */
export interface BudgetDecision {
  drop?: readonly string[];
  move?: readonly string[];
  refuse?: { code: string; message: string };
}

/** Options of `claimsKit()`. */
export interface ClaimsKitOptions<P extends readonly AnyPlugin[]> {
  /** The plugins, in the order they run. Later plugins see earlier plugins' claims. */
  plugins: P;
  /** Sets `iss` on every token at sign-in. */
  issuer?: string;
  /** Required when a plugin declares `server` claims or the budget moves claims. */
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
    /**
     * While the registry fails (database down or slow), keep serving a session for at most this
     * many seconds after its last successful check; then it ends. Default 60.
     */
    failOpenFor?: number;
    /** A registry check slower than this (milliseconds) counts as a failure. Default 2000. */
    checkTimeoutMs?: number;
    /**
     * Read a session's state from the registry itself at least this often, even while a registry
     * cache's change log says nothing changed (the bound on a change that could not be logged).
     * Default 300; each session at its own moment in the period.
     */
    verifyEvery?: number;
  };
  /** The cookie's size budget (`sizeBudget({ maxBytes, claims })`), applied to every token. */
  budget?: TokenBudget;
  /**
   * Short keys for claims in the stored token (`{ tenantRole: "tr" }`). Plugins, `session()` and
   * `readToken()` see the full names; only the cookie carries the short ones.
   */
  keys?: Record<string, string>;
  /**
   * Describes the request at sign-in: the user agent for the sessions list, and the session token
   * the browser already had, whose session then ends. `nextClaimsKit()` supplies it for Next.js
   * apps; failures are ignored.
   */
  requestInfo?: () => Awaitable<RequestInfo>;
  /**
   * Development diagnostics: warn once about a claim that changes on most requests (its home is
   * server-side data, not the cookie). Default false; e.g. `development: env.NODE_ENV !== "production"`.
   */
  development?: boolean;
  /**
   * Default limit on one claim value's encoded size (UTF-8 bytes of its JSON) for client and token
   * claims; a claim's own `maxBytes` wins. Writes over it are refused (`claim_invalid`). Default 2048.
   */
  claimMaxBytes?: number;
}

type AnyIntent = IntentSpec<ClaimMap, StandardSchemaV1>;

/** Everything a request needs, compiled once. */
export interface Runtime {
  readonly plugins: readonly AnyPlugin[];
  /** Declared claim -> owning plugin (and its index) and visibility. */
  readonly owners: ReadonlyMap<string, { plugin: string; index: number; visibility: Visibility }>;
  readonly intents: ReadonlyMap<string, { plugin: AnyPlugin; index: number; spec: AnyIntent }>;
  readonly clientClaims: readonly string[];
  readonly registry: SessionRegistry | undefined;
  readonly serverStore: ServerDataStore | undefined;
  readonly budget: TokenBudget | undefined;
  readonly fresh: { readonly checkEvery: number; readonly maxAge: number | undefined; readonly touchEvery: number; readonly failOpenFor: number; readonly checkTimeoutMs: number; readonly verifyEvery: number };
  readonly claimMaxBytes: number;
  readonly sessionMaxAge: number;
  readonly issuer: string | undefined;
  /** `requestInfo`, as given or as a framework helper supplied it later (`nextClaimsKit()`). */
  readonly hooks: { requestInfo: (() => Awaitable<RequestInfo>) | undefined };
  readonly development: boolean;
  readonly log: KitLogger;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
  /** Seconds since the epoch. */
  readonly now: () => number;
  /** A decoded cookie token with full claim names (undoes `keys`). */
  expand(token: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** The token as stored in the cookie (applies `keys`). */
  stored(token: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** Auth.js claims a client claim is stored as (`keys: { displayName: "name" }`). */
  readonly takenOver: readonly string[];
  /** Server updates staged in this process, by one-time nonce. */
  readonly staged: Map<string, { patch: unknown; expires: number; sid: string }>;
  /** Development-only statistics of claims that change on most requests. */
  readonly churn: Map<string, { calls: number; changes: number; warned: boolean }>;
}

const consoleLogger: KitLogger = {
  info: (m) => console.info(`[claims-kit] ${m}`),
  warn: (m) => console.warn(`[claims-kit] ${m}`),
  error: (m) => console.error(`[claims-kit] ${m}`),
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const secondsOption = (where: string, name: string, value: number | undefined) => {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) invalidOption(where, name, "must be a whole number (0 or more)");
};

/** Check one plugin and register its claims and intents. */
function compilePlugin(
  plugin: AnyPlugin,
  index: number,
  ctx: { ids: Set<string>; owners: Map<string, { plugin: string; index: number; visibility: Visibility }>; intents: Map<string, { plugin: AnyPlugin; index: number; spec: AnyIntent }>; serverStore: unknown },
): void {
  const at = `claimsKit: plugins[${index}]`;
  if (!isRecord(plugin)) invalidOption(at, "plugins", "must be a plugin object");
  if (typeof plugin.id !== "string" || !PLUGIN_ID.test(plugin.id)) invalidOption(at, "id", `must match ${PLUGIN_ID} (got ${JSON.stringify(plugin.id)})`);
  if (RESERVED_IDS.has(plugin.id)) invalidOption(at, "id", `must not be "${plugin.id}" (the kit records its own errors under that id)`);
  if (ctx.ids.has(plugin.id)) throw new ClaimsKitError("duplicate_plugin", `${at}: plugin id "${plugin.id}" is used twice`);
  ctx.ids.add(plugin.id);
  const here = `${at} (${plugin.id})`;
  if (!isRecord(plugin.claims)) invalidOption(here, "claims", "must be an object of claim specs");
  for (const [name, spec] of Object.entries(plugin.claims as Record<string, ClaimSpec>)) {
    if (PROTECTED_CLAIMS.has(name)) throw new ClaimsKitError("claim_protected", `${here}: claim "${name}" is protected and cannot be declared`);
    if (!CLAIM_NAME.test(name) || FORBIDDEN_NAMES.has(name) || AUTHJS_CLAIMS.includes(name)) invalidOption(here, `claims.${name}`, "is not a valid claim name");
    if (!spec || !["client", "token", "server"].includes(spec.visibility)) invalidOption(here, `claims.${name}.visibility`, 'must be "client", "token" or "server"');
    if (spec.maxBytes !== undefined && (!Number.isSafeInteger(spec.maxBytes) || spec.maxBytes < 2)) invalidOption(here, `claims.${name}.maxBytes`, "must be a whole number of bytes (2 or more)");
    if (spec.visibility !== "server" && SENSITIVE_NAME.test(name)) {
      throw new ClaimsKitError("claim_sensitive", `${here}: claim "${name}" looks sensitive; keep it out of the token (visibility "server") or rename it`);
    }
    const prior = ctx.owners.get(name);
    if (prior) throw new ClaimsKitError("claim_conflict", `${here}: claim "${name}" is already owned by plugin "${prior.plugin}"`);
    ctx.owners.set(name, { plugin: plugin.id, index, visibility: spec.visibility });
    if (spec.visibility === "server" && !ctx.serverStore) invalidOption("claimsKit", "serverStore", `is required: plugin "${plugin.id}" declares server-side claim "${name}"`);
  }
  for (const hook of ["load", "jwt"] as const) {
    if (plugin[hook] !== undefined && typeof plugin[hook] !== "function") invalidOption(here, hook, "must be a function");
  }
  if (plugin.maxAge !== undefined && (!Number.isSafeInteger(plugin.maxAge) || plugin.maxAge <= 0)) invalidOption(here, "maxAge", "must be a positive whole number of seconds");
  // A typo here would silently disable re-derivation: every name must be an earlier plugin's claim.
  for (const name of plugin.reloadOn ?? []) {
    const owner = ctx.owners.get(name);
    if (!AUTHJS_CLAIMS.includes(name) && (!owner || owner.index >= index)) invalidOption(here, "reloadOn", `names "${name}", which no earlier plugin declares`);
  }
  for (const [name, spec] of Object.entries((plugin.intents ?? {}) as Record<string, AnyIntent>)) {
    if (!INTENT_NAME.test(name) || FORBIDDEN_NAMES.has(name)) invalidOption(here, `intents.${name}`, "is not a valid intent name");
    if (name === REFRESH_INTENT || ctx.intents.has(name)) {
      throw new ClaimsKitError("claim_conflict", `${here}: intent "${name}" is already defined${name === REFRESH_INTENT ? " by the kit" : ` by plugin "${ctx.intents.get(name)?.plugin.id}"`}`);
    }
    if (!spec?.input?.["~standard"] || typeof spec.handle !== "function" || (spec.commit !== undefined && typeof spec.commit !== "function")) {
      invalidOption(here, `intents.${name}`, "needs an `input` Standard Schema (e.g. zod), a `handle` function and optionally a `commit` function");
    }
    if (spec.chooses !== undefined && (!Array.isArray(spec.chooses) || spec.chooses.some((c) => typeof c !== "string" || !Object.hasOwn(plugin.claims, c)))) {
      invalidOption(here, `intents.${name}.chooses`, "must list claims this plugin declares");
    }
    ctx.intents.set(name, { plugin, index, spec });
  }
}

/**
 * Short keys: a pair of renames between the names code uses and the names the cookie carries. A
 * client claim may also take over one of Auth.js's own (`{ displayName: "name" }`): the cookie then
 * carries it once, and Auth.js's `session.user.name` follows the claim instead of repeating it.
 */
function compileKeys(keys: Record<string, string> | undefined, owners: ReadonlyMap<string, { visibility: Visibility }>, plugins: readonly AnyPlugin[]) {
  const toShort = new Map<string, string>();
  const toLong = new Map<string, string>();
  for (const [long, short] of Object.entries(keys ?? {})) {
    const bad = (problem: string) => invalidOption("claimsKit", `keys.${long}`, problem);
    if (PROTECTED_CLAIMS.has(long) || PROTECTED_CLAIMS.has(short)) bad("cannot rename or shadow a protected claim");
    if (typeof short !== "string" || !CLAIM_NAME.test(short) || FORBIDDEN_NAMES.has(short)) bad("must be a valid claim name");
    if (owners.has(short) || toLong.has(short)) bad(`short key "${short}" is already a claim name or another key`);
    if (AUTHJS_CLAIMS.includes(short)) {
      if (!TAKEOVER_CLAIMS.includes(short)) bad(`Auth.js's "${short}" is an identity apps trust; only ${TAKEOVER_CLAIMS.map((n) => `"${n}"`).join(" and ")} can carry a claim`);
      // Auth.js shows its claims to the browser (session.user): only a client claim may take one over.
      if (owners.get(long)?.visibility !== "client") bad(`only a client claim can be stored as Auth.js's "${short}" (it reaches the browser as session.user)`);
      const reader = plugins.find((p) => p.reloadOn?.includes(short));
      if (reader) bad(`plugin "${reader.id}" reloads on Auth.js's "${short}", which this key replaces`);
    }
    toShort.set(long, short);
    toLong.set(short, long);
  }
  const rename = (token: Readonly<Record<string, unknown>>, map: Map<string, string>): Record<string, unknown> => {
    if (map.size === 0) return { ...token };
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(token)) out[map.get(key) ?? key] = value;
    return out;
  };
  return {
    expand: (t: Readonly<Record<string, unknown>>) => rename(t, toLong),
    stored: (t: Readonly<Record<string, unknown>>) => rename(t, toShort),
    takenOver: [...toLong.keys()].filter((short) => AUTHJS_CLAIMS.includes(short)),
  };
}

/** Validate `claimsKit()` options and compile them. Throws `ClaimsKitError` naming the option. */
export function compile<P extends readonly AnyPlugin[]>(options: ClaimsKitOptions<P>): Runtime {
  const where = "claimsKit";
  if (!isRecord(options) || !Array.isArray(options.plugins)) invalidOption(where, "plugins", "must be an array of plugins");
  const sessionMaxAge = options.maxAge ?? 30 * 24 * 60 * 60;
  if (options.issuer !== undefined && (typeof options.issuer !== "string" || options.issuer.length === 0)) invalidOption(where, "issuer", "must be a non-empty string");
  if (!Number.isSafeInteger(sessionMaxAge) || sessionMaxAge <= 0) invalidOption(where, "maxAge", "must be a positive integer (seconds)");
  const registry = options.sessions;
  const f = options.freshness;
  const fresh = { checkEvery: f?.checkEvery ?? 0, maxAge: f?.maxAge, touchEvery: f?.touchEvery ?? 300, failOpenFor: f?.failOpenFor ?? 60, checkTimeoutMs: f?.checkTimeoutMs ?? 2000, verifyEvery: f?.verifyEvery ?? 300 };
  for (const [name, value] of Object.entries(fresh)) secondsOption(where, `freshness.${name}`, value);
  if (fresh.checkTimeoutMs < 1) invalidOption(where, "freshness.checkTimeoutMs", "must be at least 1 ms");
  if (fresh.verifyEvery < 1) invalidOption(where, "freshness.verifyEvery", "must be at least 1 s");
  if (f && !registry && (f.checkEvery !== undefined || f.touchEvery !== undefined || f.failOpenFor !== undefined || f.checkTimeoutMs !== undefined || f.verifyEvery !== undefined)) {
    invalidOption(where, "sessions", "is required for freshness.checkEvery/touchEvery/failOpenFor/checkTimeoutMs/verifyEvery (they concern the session registry)");
  }
  const claimMaxBytes = options.claimMaxBytes ?? 2048;
  if (!Number.isSafeInteger(claimMaxBytes) || claimMaxBytes < 16) invalidOption(where, "claimMaxBytes", "must be a whole number of bytes, at least 16");
  const budget = options.budget;
  if (budget !== undefined && (!isRecord(budget) || typeof budget.decide !== "function")) invalidOption(where, "budget", "must come from sizeBudget()");
  if (budget?.movesClaims && !options.serverStore) invalidOption(where, "serverStore", "is required: the budget moves claims server-side");
  if (options.requestInfo !== undefined && typeof options.requestInfo !== "function") invalidOption(where, "requestInfo", "must be a function");

  const owners = new Map<string, { plugin: string; index: number; visibility: Visibility }>();
  const intents = new Map<string, { plugin: AnyPlugin; index: number; spec: AnyIntent }>();
  const ids = new Set<string>();
  options.plugins.forEach((plugin, index) => compilePlugin(plugin, index, { ids, owners, intents, serverStore: options.serverStore }));
  const clock = options.clock ?? Date.now;
  return Object.freeze({
    plugins: Object.freeze([...options.plugins]),
    owners,
    intents,
    clientClaims: [...owners].filter(([, o]) => o.visibility === "client").map(([name]) => name),
    registry,
    serverStore: options.serverStore,
    budget,
    fresh,
    claimMaxBytes,
    sessionMaxAge,
    issuer: options.issuer,
    hooks: { requestInfo: options.requestInfo },
    development: options.development === true,
    log: options.logger ?? consoleLogger,
    clock,
    now: () => Math.floor(clock() / 1000),
    ...compileKeys(options.keys, owners, options.plugins),
    staged: new Map(),
    churn: new Map(),
  });
}
