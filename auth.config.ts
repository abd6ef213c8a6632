import type { AuthConfig } from "@auth/core";
import { PrismaAdapter } from "@auth/prisma-adapter";
import { access, TENANT_ROLES } from "@/app/_lib/access";
import { z } from "zod";
import { appClaims, backchannelLogout, cachedSessionRegistry, claim, claimsKit, ClaimsKitError, inProcessChangeFeed, is, linkableEmail, oauthRefresh, permissions, roles, sizeBudget, tenant, withUserinfo, type KitLogger, type RequestInfo } from "@/lib/claims-kit";
import { postgresChangeFeed, prismaChangeLog, prismaReplayStore, prismaServerDataStore, prismaSessionRegistry, prismaTokenVault } from "@/lib/claims-kit/prisma";
import * as source from "@/app/_lib/claims-source";
import { sessionCodec } from "@/lib/claims-kit/codec";
import { prisma } from "@/app/_lib/db";

const SESSION_MAX_AGE = 30 * 24 * 60 * 60;
const LINK_BY_EMAIL = process.env.AUTH_OIDC_LINK_BY_EMAIL !== "false";
/** Claims are re-read from the database at least this often (seconds), even without a version bump. */
const CLAIMS_MAX_AGE = Number(process.env.CLAIMS_MAX_AGE ?? 300);

/**
 * The authorization request's parameters. A refresh token needs `offline_access`, which OIDC Core
 * (and every strict provider) grants only with `prompt=consent`: asked for unless AUTH_OIDC_PROMPT
 * says otherwise (an empty value sends none). AUTH_OIDC_AUTH_PARAMS adds any others as a query
 * string, e.g. Google's `access_type=offline`.
 */
export function authorizationParams(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const scope = env.AUTH_OIDC_SCOPE ?? "openid profile email offline_access";
  const params: Record<string, string> = { scope };
  const prompt = env.AUTH_OIDC_PROMPT ?? (scope.split(/\s+/).includes("offline_access") ? "consent" : "");
  if (prompt) params.prompt = prompt;
  for (const [name, value] of new URLSearchParams(env.AUTH_OIDC_AUTH_PARAMS ?? "")) params[name] = value;
  return params;
}

/** Auth.js prefixes its cookies with `__Secure-` when the app is served over https. */
export const SECURE_COOKIES = process.env.AUTH_URL?.startsWith("https://") ?? false;

/** The session cookie's budget: one chunk, under 2 KB of `Cookie` header. */
export const COOKIE_BUDGET = { maxBytes: 2048, maxChunks: 1 } as const;

/** The sign-in request's user agent and previous session (absent outside a Next request). */
async function requestInfo(): Promise<RequestInfo> {
  // Imported here: next/server's helpers are server-only and need a Next request.
  const { nextRequestInfo } = await import("@/lib/claims-kit/next/server");
  return nextRequestInfo({ secret: process.env.AUTH_SECRET, decode: sessionJwt?.decode })();
}

/**
 * Providers a signed-in user can link to their account (the callback then sees the session): the
 * "work" provider when AUTH_WORK_ISSUER is set, in vault mode (the cookie holds one token set).
 */
const WORK_PROVIDER = Boolean(process.env.AUTH_WORK_ISSUER) && process.env.AUTH_TOKEN_MODE !== "cookie";
export const linkProviders: readonly string[] = WORK_PROVIDER ? ["work"] : [];

/** How the app may authenticate at the provider's token endpoint (AUTH_OIDC_TOKEN_AUTH_METHOD). */
export const TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "none"] as const;
export type TokenAuthMethod = (typeof TOKEN_AUTH_METHODS)[number];

/**
 * AUTH_OIDC_TOKEN_AUTH_METHOD, checked: one value for Auth.js's code exchange at sign-in and the
 * kit's refresh and revocation (both read it from the provider object below). Throws naming the
 * variable; `private_key_jwt` needs a private key, which the app does not read from the
 * environment (pass it in code: the provider's `token.clientPrivateKey`, which the kit reads too).
 */
export function tokenAuthMethod(env: Record<string, string | undefined> = process.env): TokenAuthMethod {
  const value = env.AUTH_OIDC_TOKEN_AUTH_METHOD || "client_secret_basic";
  if (!(TOKEN_AUTH_METHODS as readonly string[]).includes(value)) {
    throw new Error(`configuration: AUTH_OIDC_TOKEN_AUTH_METHOD must be one of ${TOKEN_AUTH_METHODS.join(", ")} (got ${JSON.stringify(value)}; private_key_jwt needs a key set in code, see README)`);
  }
  return value as TokenAuthMethod;
}

/** The environment, once AUTH_OIDC_TOKEN_AUTH_METHOD has been checked (throws naming it). */
function withCheckedMethod(env: Record<string, string | undefined> = process.env): Record<string, string | undefined> {
  tokenAuthMethod(env);
  return env;
}

/**
 * The app's OpenID Connect provider (any issuer: Keycloak, Auth0, Entra ID, LemonLDAP::NG, or the
 * bundled dev provider), as ONE object that Auth.js signs in with and `oauthRefresh({ provider })`
 * refreshes with: issuer, client id, secret and token-endpoint authentication come from the same
 * place, so the refresh authenticates exactly as the sign-in did. Read from the environment when
 * called; an invalid AUTH_OIDC_TOKEN_AUTH_METHOD is reported by `tokenAuthMethod()` at start-up.
 */
export function oidcProvider(env: Record<string, string | undefined> = process.env) {
  const method = env.AUTH_OIDC_TOKEN_AUTH_METHOD || "client_secret_basic";
  // A provider whose id_token lacks email or name (LemonLDAP::NG by default, Okta's org server)
  // gives them at userinfo: fetched and merged at sign-in, or the sign-in is refused.
  return withUserinfo({
    id: "oidc",
    name: env.AUTH_OIDC_NAME ?? "OpenID Connect",
    type: "oidc" as const,
    issuer: env.AUTH_OIDC_ISSUER,
    clientId: env.AUTH_OIDC_ID,
    clientSecret: method === "none" ? undefined : env.AUTH_OIDC_SECRET,
    client: { token_endpoint_auth_method: method },
    authorization: { params: authorizationParams(env) },
    // Seeded users exist before their first OIDC sign-in; link them by email, only when the
    // provider says the address is verified (see the signIn callback below).
    allowDangerousEmailAccountLinking: env.AUTH_OIDC_LINK_BY_EMAIL !== "false",
  });
}

/**
 * The OIDC provider's access token, kept fresh. Vault mode (default): tokens in the Account row,
 * the cookie holds the account and the expiry. AUTH_TOKEN_MODE=cookie keeps them in the JWT.
 */
export const oauth = oauthRefresh(() => ({
  // Read on first use (and checked at server start, instrumentation.ts): `next build` needs none of it.
  // The provider object Auth.js signs in with: issuer, client id, secret and auth method from it.
  provider: oidcProvider(withCheckedMethod()),
  mode: process.env.AUTH_TOKEN_MODE === "cookie" ? "cookie" : "vault",
  vault: prismaTokenVault(prisma),
  skewSeconds: Number(process.env.OAUTH_REFRESH_SKEW ?? 60),
  timeoutMs: Number(process.env.OAUTH_REFRESH_TIMEOUT_MS ?? 10_000),
  // A second provider a signed-in user can link: its own token set, refreshed on its own.
  linked: WORK_PROVIDER
    ? [{ provider: "work", issuer: process.env.AUTH_WORK_ISSUER, clientId: process.env.AUTH_WORK_ID ?? "", clientSecret: process.env.AUTH_WORK_SECRET, timeoutMs: Number(process.env.OAUTH_REFRESH_TIMEOUT_MS ?? 10_000) }]
    : [],
}));

/**
 * The session registry, read from memory: a session read makes no query. Changes (revocations,
 * claims versions, offline patches, the epoch) go through the KitChange log; on PostgreSQL,
 * LISTEN/NOTIFY wakes the other processes at once, otherwise each reads the log every second.
 */
const sessions = cachedSessionRegistry(prismaSessionRegistry(prisma), {
  changes: prismaChangeLog(prisma),
  feed: process.env.DATABASE_URL?.startsWith("postgres") ? postgresChangeFeed(process.env.DATABASE_URL) : inProcessChangeFeed(),
});

/**
 * The session cookie's codec: Auth.js's exact format (compact JWE, dir + A256CBC-HS512, HKDF keys)
 * on node:crypto with keys derived once, about 14x cheaper per session read. The way back to
 * Auth.js's own codec: AUTH_SESSION_CODEC=authjs (or drop `jwt` from the config below).
 */
export const sessionJwt = process.env.AUTH_SESSION_CODEC === "authjs" ? undefined : sessionCodec();

/** The reference app's claims, one builder per feature, in the order they run. */
export const makeKit = (overrides: { clock?: () => number; claimsMaxAge?: number; requestInfo?: () => Promise<RequestInfo>; logger?: KitLogger } = {}) => claimsKit({
  clock: overrides.clock,
  logger: overrides.logger,
  // No `iss` by default: nothing checks it, and every byte of the cookie is paid on every request.
  issuer: process.env.AUTH_CLAIMS_ISSUER || undefined,
  serverStore: prismaServerDataStore(prisma.sessionData),
  sessions,
  freshness: { maxAge: overrides.claimsMaxAge ?? CLAIMS_MAX_AGE },
  requestInfo: overrides.requestInfo ?? requestInfo,
  maxAge: SESSION_MAX_AGE,
  plugins: [
    roles({ roles: ["user", "staff"], load: source.userRole }),
    tenant({ roles: TENANT_ROLES, defaultTenant: source.defaultTenant, membership: source.membership }),
    permissions({ set: access, from: ["tenantRole"], tenantGrants: { claim: "tenantId", load: source.tenantGrants }, globalGrants: source.globalGrants }),
    appClaims({
      id: "billing",
      claims: { tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])), credits: claim.client<number>(is.int({ min: 0 })) },
      load: async ({ userId }) => (userId ? ((await source.billing(userId)) ?? { tier: null, credits: null }) : undefined),
    }),
    appClaims({
      id: "profile",
      // 60 characters of any script fit in 242 bytes of JSON; escaped control characters would not.
      claims: { displayName: claim.client<string>(is.stringMax(60), { maxBytes: 242 }) },
      load: async ({ userId }) => (userId ? { displayName: await source.displayName(userId) } : undefined),
      intents: {
        setDisplayName: {
          input: z.object({
            displayName: z.string().trim().min(1, "Display name must be 1-60 characters").max(60, "Display name must be 1-60 characters")
              .regex(/^[^\p{Cc}]*$/u, "Display name cannot contain control characters"),
          }).strict(),
          handle: ({ displayName }) => ({ displayName }),
          // Saved only once the kit has accepted the new claim (checks, budget): a refused name
          // never reaches the database.
          commit: ({ displayName }, { userId }) => source.setDisplayName(userId!, displayName),
        },
      },
    }),
    appClaims({
      id: "workspace",
      claims: { tenants: claim.server<source.TenantSummary[]>(Array.isArray) },
      load: async ({ userId }) => (userId ? { tenants: await source.userTenants(userId) } : undefined),
    }),
    appClaims({
      id: "directory",
      // The provider's groups, as it sent them at sign-in (kept until the next sign-in).
      // Up to 1000 groups from the provider: large on purpose, the size budget moves them server-side.
      claims: { groups: claim.client<string[]>(Array.isArray, { maxBytes: 64 * 1024 }) },
      load: ({ reason, profile }) => (reason === "signIn" ? { groups: profileGroups(profile) } : undefined),
    }),
    oauth,
  ],
  // One cookie under 2 KB. Big group lists move server-side, then the picture, then the name go.
  budget: sizeBudget({ ...COOKIE_BUDGET, secure: SECURE_COOKIES, claims: { groups: { move: 1 }, picture: { drop: 2 }, displayName: { drop: 3 } } }),
  // Shorter names in the cookie; code keeps reading the full ones. The display name is stored as
  // Auth.js's `name` (once, not twice), so session.user.name follows setDisplayName.
  keys: { tenantId: "tid", tenantRole: "trole", permissions: "perm", displayName: "name" },
});

function profileGroups(profile: Readonly<Record<string, unknown>> | undefined): string[] | null {
  const groups = profile?.groups;
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string").slice(0, 1000) : null;
}

export const kit = makeKit();

/**
 * Seconds within which the user must have authenticated at the provider for sensitive actions
 * ("Sign out everywhere", "Sign out all other sessions", role changes); older sign-ins step up.
 */
export const RECENT_AUTH_MAX_AGE = Number(process.env.AUTH_RECENT_AUTH_MAX_AGE ?? 300);

/**
 * The OIDC back-channel logout endpoint (app/api/auth/backchannel-logout): the provider's logout
 * token ends the sessions of that provider session, or of that user at the provider. Configuration
 * is read on the first request (next build needs none).
 */
export const makeBackchannel = (k: AppKit) =>
  backchannelLogout(() => ({
    kit: k,
    issuer: process.env.AUTH_OIDC_ISSUER ?? "",
    clientId: process.env.AUTH_OIDC_ID ?? "",
    replay: prismaReplayStore(prisma),
    // The client's id_token_signed_response_alg at the provider (RS256 unless registered otherwise).
    // Set but empty is a list of nothing, refused at start-up like any other invalid list.
    algorithms: (process.env.AUTH_OIDC_LOGOUT_ALGS ?? "RS256").split(",").map((a) => a.trim()).filter(Boolean),
  }));

/** The environment variable behind each back-channel option, so a start-up error names it. */
const BACKCHANNEL_ENV: Readonly<Record<string, string>> = { algorithms: "AUTH_OIDC_LOGOUT_ALGS", issuer: "AUTH_OIDC_ISSUER", clientId: "AUTH_OIDC_ID" };

/**
 * Check the back-channel logout options now (instrumentation.ts, when `next start` boots): an
 * invalid AUTH_OIDC_LOGOUT_ALGS (`none`, `HS256`, a typo, nothing) would otherwise fail every logout
 * token with a 500, and provider logouts would silently stop ending sessions. Throws naming the
 * variable.
 *
 * @example
 * ```ts
 * checkBackchannel(); // AUTH_OIDC_LOGOUT_ALGS=none: "configuration: AUTH_OIDC_LOGOUT_ALGS is invalid: …"
 * ```
 */
export function checkBackchannel(k: AppKit = kit): void {
  try {
    makeBackchannel(k).check();
  } catch (err) {
    const variable = err instanceof ClaimsKitError && err.option ? BACKCHANNEL_ENV[err.option] : undefined;
    if (!variable) throw err;
    throw new Error(`configuration: ${variable} is invalid: ${(err as Error).message} (see README, Configuration)`, { cause: err });
  }
}

/**
 * Everything Auth.js needs, without Next.js: `auth.ts` hands it to NextAuth, and the integration
 * tests hand it (built around a kit with a fake clock) to `@auth/core`'s `Auth()`.
 */
export const makeAuthConfig = (k: AppKit = kit) => ({
  adapter: PrismaAdapter(prisma),
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE },
  ...(sessionJwt ? { jwt: sessionJwt } : {}),
  trustHost: true,
  providers: [
    // Any OpenID Connect provider; the same object oauthRefresh() refreshes with.
    oidcProvider(),
    // The linkable second provider (AUTH_WORK_*): never linked by email, only to the user signed in
    // when they link it (Auth.js links an account signed in with while a session exists).
    ...(WORK_PROVIDER
      ? [{
          id: "work",
          name: process.env.AUTH_WORK_NAME ?? "Work account",
          type: "oidc" as const,
          issuer: process.env.AUTH_WORK_ISSUER,
          clientId: process.env.AUTH_WORK_ID,
          clientSecret: process.env.AUTH_WORK_SECRET,
          authorization: { params: authorizationParams() },
        }]
      : []),
  ],
  callbacks: {
    ...k.callbacks,
    // Linking a sign-in to an existing user by email is only safe for an address the provider has
    // verified: otherwise anyone who can register "alice@…" at the provider becomes Alice. The
    // lookup uses the address exactly as Auth.js will link it (lower-cased), and addresses whose
    // lower-casing folds non-ASCII characters onto ASCII ones are refused outright.
    async signIn({ account, profile, user }) {
      // The address Auth.js links by is the user's (from profile()); the claims say whether the
      // provider verified it (withUserinfo merges userinfo into them before this runs).
      const email = profile?.email ?? user?.email;
      if (account?.provider !== "oidc" || email === undefined || email === null) return true;
      const linkable = linkableEmail(email);
      if (!linkable.ok) {
        console.warn(`[auth] sign-in refused: ${linkable.code}: ${linkable.detail}`);
        return false;
      }
      if (!LINK_BY_EMAIL || (profile?.email === email && profile.email_verified === true)) return true;
      const existing = await prisma.user.findUnique({
        where: { email: linkable.email },
        select: { accounts: { where: { provider: "oidc", providerAccountId: account.providerAccountId }, select: { id: true } } },
      });
      return !existing || existing.accounts.length > 0;
    },
  },
  events: { ...k.events },
}) satisfies AuthConfig;

export const authConfig = makeAuthConfig();

/** The kit's type: `SessionOf<AppKit>`, `useClaims<AppKit>()`. */
export type AppKit = ReturnType<typeof makeKit>;
