// The reference app's composition, without Next.js: the kit (one builder per feature), the Auth.js
// config and the back-channel receiver, built from values (`createAuth(env, { prisma })`). auth.ts
// hands the app's instance to nextClaimsKit(); the integration tests build their own around a test
// database, a fake clock and their own provider, with the same function.
import type { NextAuthConfig } from "next-auth";
import { PrismaAdapter } from "@auth/prisma-adapter";
import { z } from "zod";
import { access, TENANT_ROLES } from "@/app/_lib/access";
import { appChangeFeed } from "@/app/_lib/change-feed";
import { purgeOnce, startPurging } from "@/app/_lib/retention";
import { claimsSource, type TenantSummary } from "@/app/_lib/claims-source";
import { prisma } from "@/app/_lib/db";
import { env as processEnv, type AppEnv, assertServerEnv } from "@/app/_lib/env";
import { appSharedSignals } from "@/app/_lib/ssf";
import { appClaims, claim, claimsKit, ClaimsKitError, is, oauthRefresh, permissions, roles, sizeBudget, tenant, type KitLogger, type RequestInfo } from "@/lib/claims-kit";
import { sessionCodec } from "@/lib/claims-kit/codec";
import { backchannelLogout, linkableEmail, withUserinfo } from "@/lib/claims-kit/oidc";
import { cachedSessionRegistry, type CachedRegistryOptions } from "@/lib/claims-kit/plugin";
import { prismaChangeLog, prismaReplayStore, prismaServerDataStore, prismaSessionRegistry, prismaTokenVault } from "@/lib/claims-kit/prisma";
import type { NextClaimsKitOptions } from "@/lib/claims-kit/next/server";
import type { PrismaClient } from "@/prisma/generated/prisma/client";

const SESSION_MAX_AGE = 30 * 24 * 60 * 60;

/** The session cookie's budget: one chunk, under 2 KB of `Cookie` header. */
export const COOKIE_BUDGET = { maxBytes: 2048, maxChunks: 1 } as const;

/**
 * The authorization request's parameters. A refresh token needs `offline_access`, which OIDC Core
 * (and every strict provider) grants only with `prompt=consent`: asked for unless AUTH_OIDC_PROMPT
 * says otherwise (an empty value sends none). AUTH_OIDC_AUTH_PARAMS adds any others as a query
 * string, e.g. Google's `access_type=offline`.
 */
export function authorizationParams(env: Pick<AppEnv, "AUTH_OIDC_SCOPE" | "AUTH_OIDC_PROMPT" | "AUTH_OIDC_AUTH_PARAMS">): Record<string, string> {
  const scope = env.AUTH_OIDC_SCOPE;
  const params: Record<string, string> = { scope };
  const prompt = env.AUTH_OIDC_PROMPT ?? (scope.split(/\s+/).includes("offline_access") ? "consent" : "");
  if (prompt) params.prompt = prompt;
  for (const [name, value] of new URLSearchParams(env.AUTH_OIDC_AUTH_PARAMS)) params[name] = value;
  return params;
}

/**
 * The app's OpenID Connect provider (any issuer: Keycloak, Auth0, Entra ID, LemonLDAP::NG, or the
 * bundled dev provider), as ONE object that Auth.js signs in with and `oauthRefresh({ provider })`
 * refreshes with: issuer, client id, secret and token-endpoint authentication come from the same
 * place, so the refresh authenticates exactly as the sign-in did.
 */
export function oidcProvider(env: AppEnv) {
  const method = env.AUTH_OIDC_TOKEN_AUTH_METHOD;
  // A provider whose id_token lacks email or name (LemonLDAP::NG by default, Okta's org server)
  // gives them at userinfo: fetched and merged at sign-in, or the sign-in is refused.
  return withUserinfo({
    id: "oidc",
    name: env.AUTH_OIDC_NAME,
    type: "oidc" as const,
    issuer: env.AUTH_OIDC_ISSUER,
    clientId: env.AUTH_OIDC_ID,
    clientSecret: method === "none" ? undefined : env.AUTH_OIDC_SECRET,
    client: { token_endpoint_auth_method: method },
    authorization: { params: authorizationParams(env) },
    // Seeded users exist before their first OIDC sign-in; link them by email, only when the
    // provider says the address is verified (see the signIn callback below).
    allowDangerousEmailAccountLinking: env.AUTH_OIDC_LINK_BY_EMAIL,
  });
}

/** What a composition needs besides the configuration. */
export interface AuthDeps {
  prisma: PrismaClient;
  /** Milliseconds since the epoch (tests pass a fake clock). */
  clock?: () => number;
  /** Overrides CLAIMS_MAX_AGE (seconds). */
  claimsMaxAge?: number;
  /** The sign-in request's details; in the app, nextClaimsKit() supplies them. */
  requestInfo?: () => Promise<RequestInfo>;
  logger?: KitLogger;
  /**
   * The registry cache's options (tests: `entryTtlMs: 0` serves no cached state, only cold reads
   * and queries; `changes`: the change log wrapped, to make an append fail).
   */
  registryCache?: Partial<Pick<CachedRegistryOptions, "entryTtlMs" | "changes" | "onError" | "pollMs" | "safetyPollMs">>;
}

/** The environment variable behind each back-channel option, so a start-up error names it. */
const BACKCHANNEL_ENV: Readonly<Record<string, string>> = { algorithms: "AUTH_OIDC_LOGOUT_ALGS", issuer: "AUTH_OIDC_ISSUER", clientId: "AUTH_OIDC_ID" };

function profileGroups(profile: Readonly<Record<string, unknown>> | undefined): string[] | null {
  const groups = profile?.groups;
  return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === "string").slice(0, 1000) : null;
}

/** The reference app, composed from its configuration and its database client. */
export function createAuth(env: AppEnv, deps: AuthDeps) {
  const { prisma: db } = deps;
  const source = claimsSource(db);
  // A second provider a signed-in user can link (its callback then sees the session), in vault
  // mode only: the cookie holds one token set.
  const work = env.AUTH_WORK_ISSUER && env.AUTH_TOKEN_MODE !== "cookie"
    ? { id: "work", name: env.AUTH_WORK_NAME, type: "oidc" as const, issuer: env.AUTH_WORK_ISSUER, clientId: env.AUTH_WORK_ID, clientSecret: env.AUTH_WORK_SECRET, authorization: { params: authorizationParams(env) } }
    : undefined;
  const linkProviders: readonly string[] = work ? ["work"] : [];
  const provider = oidcProvider(env);

  // The provider's access token, kept fresh. Vault mode (default): tokens in the Account row, the
  // cookie holds the account and the expiry. AUTH_TOKEN_MODE=cookie keeps them in the JWT. Read on
  // first use (after NextAuth() has filled the provider object in) and checked at server start.
  const oauth = oauthRefresh(() => ({
    provider,
    mode: env.AUTH_TOKEN_MODE,
    vault: prismaTokenVault(db),
    skewSeconds: env.OAUTH_REFRESH_SKEW,
    timeoutMs: env.OAUTH_REFRESH_TIMEOUT_MS,
    linked: work ? [{ provider: "work", issuer: work.issuer, clientId: work.clientId ?? "", clientSecret: work.clientSecret, timeoutMs: env.OAUTH_REFRESH_TIMEOUT_MS }] : [],
  }));

  // The session registry, read from memory: a session read makes no query. Changes go through the
  // KitChange log; a change feed (AUTH_CHANGE_FEED: PostgreSQL LISTEN/NOTIFY, Redis pub/sub) wakes
  // the other processes at once, otherwise each reads the log every second.
  const changeFeed = appChangeFeed(env);
  const sessions = cachedSessionRegistry(prismaSessionRegistry(db), {
    changes: prismaChangeLog(db),
    feed: changeFeed.feed,
    ...deps.registryCache,
  });

  // The session cookie's codec: Auth.js's exact format on node:crypto with keys derived once,
  // about 14x cheaper per session read. AUTH_SESSION_CODEC=authjs goes back to Auth.js's own.
  // Under the database strategy the cookie is Auth.js's opaque session token: no codec.
  const database = env.AUTH_SESSION_STRATEGY === "database";
  const sessionJwt = database || env.AUTH_SESSION_CODEC === "authjs" ? undefined : sessionCodec();

  const kit = claimsKit({
    clock: deps.clock,
    logger: deps.logger,
    development: env.NODE_ENV !== "production",
    // No `iss` by default: nothing checks it, and every byte of the cookie is paid on every request.
    issuer: env.AUTH_CLAIMS_ISSUER,
    serverStore: prismaServerDataStore(db.sessionData),
    sessions,
    freshness: { maxAge: deps.claimsMaxAge ?? env.CLAIMS_MAX_AGE },
    requestInfo: deps.requestInfo,
    maxAge: SESSION_MAX_AGE,
    plugins: [
      roles({ roles: ["user", "staff"], load: source.userRole }),
      tenant({ roles: TENANT_ROLES, defaultTenant: source.defaultTenant, membership: source.membership }),
      permissions({ set: access, from: ["tenantRole"], tenantGrants: { claim: "tenantId", load: source.tenantGrants }, globalGrants: source.globalGrants }),
      appClaims({
        id: "billing",
        claims: { tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])), credits: claim.client<number>(is.int({ min: 0 })) },
        load: async (ctx) => (ctx.userId ? ((await source.billing(ctx.userId, ctx)) ?? { tier: null, credits: null }) : undefined),
      }),
      appClaims({
        id: "profile",
        // 60 characters of any script fit in 242 bytes of JSON; escaped control characters would not.
        claims: { displayName: claim.client<string>(is.stringMax(60), { maxBytes: 242 }) },
        load: async (ctx) => (ctx.userId ? { displayName: await source.displayName(ctx.userId, ctx) } : undefined),
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
        claims: { tenants: claim.server<TenantSummary[]>(Array.isArray) },
        load: async ({ userId }) => (userId ? { tenants: await source.userTenants(userId) } : undefined),
      }),
      appClaims({
        id: "directory",
        // The provider's groups, as it sent them at sign-in (kept until the next sign-in). Up to
        // 1000 groups: large on purpose, the size budget moves them server-side.
        claims: { groups: claim.client<string[]>(Array.isArray, { maxBytes: 64 * 1024 }) },
        load: ({ reason, profile }) => (reason === "signIn" ? { groups: profileGroups(profile) } : undefined),
      }),
      oauth,
    ],
    // One cookie under 2 KB. Big group lists move server-side, then the picture, then the name go.
    budget: sizeBudget({ ...COOKIE_BUDGET, secure: env.AUTH_URL?.startsWith("https://") ?? false, claims: { groups: { move: 1 }, picture: { drop: 2 }, displayName: { drop: 3 } } }),
    // Shorter names in the cookie; code keeps reading the full ones. The display name is stored as
    // Auth.js's `name` (once, not twice), so session.user.name follows setDisplayName.
    keys: { tenantId: "tid", tenantRole: "trole", permissions: "perm", displayName: "name" },
  });

  // The OIDC back-channel logout endpoint: the provider's logout token ends the sessions of that
  // provider session, or of that user at the provider.
  const backchannel = backchannelLogout(() => ({
    kit,
    issuer: env.AUTH_OIDC_ISSUER ?? "",
    clientId: env.AUTH_OIDC_ID ?? "",
    replay: prismaReplayStore(db),
    // The client's id_token_signed_response_alg at the provider (RS256 unless registered otherwise).
    algorithms: env.AUTH_OIDC_LOGOUT_ALGS,
  }));

  // The OpenID Shared Signals receiver (AUTH_SSF_ISSUER): the transmitter's security events end
  // sessions, reload claims or ask for a step-up (app/_lib/ssf.ts).
  const ssf = appSharedSignals(env, { kit, prisma: db, clock: deps.clock, logger: deps.logger });

  const authConfig = {
    adapter: PrismaAdapter(db),
    secret: env.AUTH_SECRET,
    session: { strategy: database ? "database" : "jwt", maxAge: SESSION_MAX_AGE },
    ...(sessionJwt ? { jwt: sessionJwt } : {}),
    trustHost: true,
    // Any OpenID Connect provider; the same object oauthRefresh() refreshes with. The linkable
    // second one is never linked by email, only to the user signed in when they link it.
    providers: work ? [provider, work] : [provider],
    callbacks: {
      ...kit.callbacks,
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
        if (!env.AUTH_OIDC_LINK_BY_EMAIL || (profile?.email === email && profile.email_verified === true)) return true;
        const existing = await db.user.findUnique({
          where: { email: linkable.email },
          select: { accounts: { where: { provider: "oidc", providerAccountId: account.providerAccountId }, select: { id: true } } },
        });
        return !existing || existing.accounts.length > 0;
      },
    },
    events: {
      ...kit.events,
      async signIn(message) {
        await kit.events.signIn(message);
        // An address the provider verified is one a Shared Signals `email` subject may name.
        const { profile, user } = message;
        if (user.id && profile?.email_verified === true && typeof profile.email === "string" && profile.email.toLowerCase() === user.email) {
          await db.user.updateMany({ where: { id: user.id, emailVerified: null }, data: { emailVerified: new Date() } });
        }
      },
    },
  } satisfies NextAuthConfig;

  return {
    env,
    kit,
    oauth,
    backchannel,
    /** The Shared Signals receiver (undefined without AUTH_SSF_ISSUER) and its event log (the Sessions page). */
    ssf: ssf.handler,
    ssfEvents: ssf.events,
    /** Poll the transmitter (AUTH_SSF_POLL_URL) on an interval (instrumentation.ts); returns the stop. */
    startSsfPolling: ssf.startPolling,
    /** Purge ended and expired sessions every AUTH_PURGE_EVERY minutes (instrumentation.ts); returns the stop. */
    startPurging: () => startPurging(env, kit.sessions, db),
    /** One purge now, with the app's retention (`npm run db:purge`). */
    purge: () => purgeOnce(env, kit.sessions, db),
    authConfig,
    sessionJwt,
    linkProviders,
    /** Seconds within which the user must have authenticated at the provider for sensitive actions; older sign-ins step up. */
    recentAuthMaxAge: env.AUTH_RECENT_AUTH_MAX_AGE,
    /** What nextClaimsKit() needs besides the kit and the Auth.js config. */
    next: {
      refresh: oauth,
      // After a CAEP assurance-level change, sensitive actions step up whatever the sign-in's age.
      stepUp: { provider: "oidc", ...(ssf.handler ? { required: ssf.handler.stepUpRequirement } : {}) },
      backchannel,
      ssf: ssf.handler,
      link: { providers: linkProviders },
      authUrl: env.AUTH_URL,
      development: env.NODE_ENV !== "production",
    } satisfies NextClaimsKitOptions,
    /** The session registry as the kit reads it: the cache (its stats, `sync()`) over the Prisma registry. */
    sessions,
    /** Stop the registry cache's polling and change feed (tests, before their database goes). */
    close: () => sessions.close(),
    /**
     * Check everything lazily read, now (instrumentation.ts, when `next start` boots): what a
     * running server needs, the refresh options, the back-channel options. Throws naming the
     * environment variable, instead of failing on a user's first request (or, for
     * AUTH_OIDC_LOGOUT_ALGS, every logout token answering 500 while provider logouts silently stop
     * ending sessions).
     */
    check(): void {
      assertServerEnv(env);
      oauth.check();
      try {
        backchannel.check();
      } catch (err) {
        const variable = err instanceof ClaimsKitError && err.option ? BACKCHANNEL_ENV[err.option] : undefined;
        if (!variable) throw err;
        throw new Error(`configuration: ${variable} is invalid: ${(err as Error).message} (see docs/reference-app.md, Configuration)`, { cause: err });
      }
      ssf.check();
      changeFeed.check();
    },
  };
}

/** The reference app: its configuration (read once), its database client. */
export const app = createAuth(processEnv, { prisma });
export const { kit, oauth, linkProviders } = app;
/** Seconds within which the user must have authenticated at the provider for sensitive actions (AUTH_RECENT_AUTH_MAX_AGE). */
export const RECENT_AUTH_MAX_AGE = app.recentAuthMaxAge;

/** The kit's type: `SessionOf<AppKit>`, `useClaims<AppKit>()`. */
export type AppKit = ReturnType<typeof createAuth>["kit"];
