// The reference app's configuration: every environment variable it reads, read once into one typed
// object and checked with zod. A value that is set but invalid is refused where it is read, naming
// the variable; the ones a running server cannot do without (secret, database, issuer, client id)
// are checked when the server starts (instrumentation.ts), so `next build` needs none of them.
import { z } from "zod";

/** How the app may authenticate at the provider's token endpoint (`AUTH_OIDC_TOKEN_AUTH_METHOD`). */
export const TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "none"] as const;
export type TokenAuthMethod = (typeof TOKEN_AUTH_METHODS)[number];

/** The change feeds AUTH_CHANGE_FEED names. */
export const CHANGE_FEEDS = ["postgres", "redis", "in-process"] as const;

const text = z.string().trim().min(1);
const seconds = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const flag = (fallback: boolean) => z.enum(["true", "false"]).default(fallback ? "true" : "false").transform((v) => v === "true");

/** The variables, their types and defaults (README, Configuration, says what each means). */
export const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  AUTH_SECRET: text.optional(),
  AUTH_URL: z.url().optional(),
  DATABASE_URL: text.optional(),
  AUTH_OIDC_ISSUER: z.url().optional(),
  AUTH_OIDC_ID: text.optional(),
  AUTH_OIDC_SECRET: text.optional(),
  AUTH_OIDC_NAME: text.default("OpenID Connect"),
  AUTH_OIDC_SCOPE: text.default("openid profile email offline_access"),
  /** Empty sends no `prompt`; unset: `consent` when the scope asks for `offline_access`. */
  AUTH_OIDC_PROMPT: z.string().optional(),
  AUTH_OIDC_AUTH_PARAMS: z.string().default(""),
  AUTH_OIDC_RP_LOGOUT: flag(true),
  AUTH_OIDC_POST_LOGOUT_URI: z.url().optional(),
  AUTH_OIDC_LINK_BY_EMAIL: flag(true),
  AUTH_OIDC_TOKEN_AUTH_METHOD: z.enum(TOKEN_AUTH_METHODS, { error: `must be one of ${TOKEN_AUTH_METHODS.join(", ")} (private_key_jwt needs a key set in code, see docs/reference-app.md)` }).default("client_secret_basic"),
  /** Comma-separated; checked by the back-channel receiver's own option check (never `none` or `HS*`). */
  AUTH_OIDC_LOGOUT_ALGS: z.string().default("RS256").transform((list) => list.split(",").map((a) => a.trim()).filter(Boolean)),
  AUTH_CLAIMS_ISSUER: text.optional(),
  CLAIMS_MAX_AGE: seconds(300),
  AUTH_TOKEN_MODE: z.enum(["vault", "cookie"]).default("vault"),
  AUTH_WORK_ISSUER: z.url().optional(),
  AUTH_WORK_ID: text.optional(),
  AUTH_WORK_SECRET: text.optional(),
  AUTH_WORK_NAME: text.default("Work account"),
  AUTH_SESSION_CODEC: z.enum(["kit", "authjs"]).default("kit"),
  /** Auth.js's session strategy: the session in an encrypted cookie (jwt), or a Session row (database). */
  AUTH_SESSION_STRATEGY: z.enum(["jwt", "database"]).default("jwt"),
  OAUTH_REFRESH_SKEW: seconds(60),
  OAUTH_REFRESH_TIMEOUT_MS: seconds(10_000),
  AUTH_RECENT_AUTH_MAX_AGE: seconds(300),
  /** The Shared Signals transmitter's issuer; unset: no receiver (its endpoint answers 404). */
  AUTH_SSF_ISSUER: z.url().optional(),
  /** What the SETs' `aud` must be: default the origin of AUTH_URL (required when AUTH_URL is unset). */
  AUTH_SSF_AUDIENCE: text.optional(),
  /** Comma-separated; checked by the receiver's own option check (never `none` or `HS*`). */
  AUTH_SSF_ALGS: z.string().default("RS256,ES256").transform((list) => list.split(",").map((a) => a.trim()).filter(Boolean)),
  /** The bearer token the transmitter must send with each push (its `authorization_header`). */
  AUTH_SSF_PUSH_TOKEN: text.optional(),
  /** Poll delivery (RFC 8936): the transmitter's poll URL for this stream, its bearer token, the interval. */
  AUTH_SSF_POLL_URL: z.url().optional(),
  AUTH_SSF_POLL_TOKEN: text.optional(),
  AUTH_SSF_POLL_INTERVAL: z.coerce.number().int().min(1).max(3600).default(30),
  /** What wakes other processes when a session changes; unset: postgres on a PostgreSQL DATABASE_URL, else in-process. */
  AUTH_CHANGE_FEED: z.enum(CHANGE_FEEDS, { error: `must be one of ${CHANGE_FEEDS.join(", ")}` }).optional(),
  /** The Redis server of AUTH_CHANGE_FEED=redis (redis:// or rediss://). */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" }).optional(),
  /** Days an ended session stays listed ("recently ended") before it and its data are deleted. */
  AUTH_SESSION_RETENTION: z.coerce.number().int().min(0).max(3650).default(30),
  /** Minutes between background purges of ended and expired sessions (0: none; `npm run db:purge` by hand). */
  AUTH_PURGE_EVERY: z.coerce.number().int().min(0).max(7 * 24 * 60).default(60),
});

/** The app's configuration, typed and checked. */
export type AppEnv = z.output<typeof envSchema>;

/** Variables whose empty value means something (and is not "unset"). */
const EMPTY_MEANS_SOMETHING = new Set(["AUTH_OIDC_PROMPT", "AUTH_OIDC_LOGOUT_ALGS", "AUTH_SSF_ALGS"]);

/**
 * Read the configuration from an environment (`process.env`, or a test's own object). Throws an
 * error naming the variable when one is set to something invalid.
 *
 * @example
 * ```ts
 * const env = readEnv(process.env);
 * env.CLAIMS_MAX_AGE; // 300 unless set
 * ```
 */
export function readEnv(source: Readonly<Record<string, string | undefined>>): AppEnv {
  const given: Record<string, string> = {};
  for (const name of Object.keys(envSchema.shape)) {
    const value = source[name];
    if (value !== undefined && (value !== "" || EMPTY_MEANS_SOMETHING.has(name))) given[name] = value;
  }
  const parsed = envSchema.safeParse(given);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new Error(`configuration: ${issue.path.join(".")} ${issue.message} (see docs/reference-app.md, Configuration)`);
}

/** What a running server cannot do without. */
export const SERVER_REQUIRED = ["AUTH_SECRET", "DATABASE_URL", "AUTH_OIDC_ISSUER", "AUTH_OIDC_ID"] as const;

/**
 * Throw naming every variable a running server needs and lacks (instrumentation.ts, at `next start`).
 *
 * @example
 * ```ts
 * assertServerEnv(readEnv(process.env)); // "configuration: AUTH_SECRET, DATABASE_URL must be set (see docs/reference-app.md, Configuration)"
 * ```
 */
export function assertServerEnv(env: AppEnv): void {
  const missing = SERVER_REQUIRED.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`configuration: ${missing.join(", ")} must be set (see docs/reference-app.md, Configuration)`);
}

/** The app's configuration, read once from the process environment. */
export const env: AppEnv = readEnv(process.env);
