// Runs the app's real Auth.js configuration (auth.config.ts) inside @auth/core's Auth(), against a
// fresh SQLite database and the real dev OIDC provider, with no Next.js server: requests are built
// as the browser would send them and cookies are carried in a jar.
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AppKit } from "../../auth.config";
import type { SessionOf } from "../../lib/claims-kit";
import { CookieJar, devLoginAt, type DevLoginOptions } from "../../scripts/oidc/dev-login";
import { startOidcProvider, type FaultMode, type ProviderBehaviour } from "../../scripts/oidc/provider";
import type { RunningLemonLdap } from "../../scripts/lemonldap/llng";

export const APP_URL = "http://localhost:3999";
/** The app's AUTH_SECRET in every harness. */
export const SECRET = "integration-test-secret-0123456789abcdef";
const CLIENT = { clientId: "integration-app", clientSecret: "integration-secret" };
/** The app's second, linkable provider ("work"): another client at the same provider. */
const WORK_CLIENT = { clientId: "integration-app-work", clientSecret: "integration-work-secret" };

/** Create a SQLite file and apply every committed migration to it (the app's, then the kit's). */
export async function migratedDatabase(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), "claims-kit-"));
  const url = `file:${path.join(dir, "test.db")}`;
  const { migrateSqlite } = await import("../../scripts/db-migrate");
  migrateSqlite(url, () => {});
  return url;
}

/** A clock tests can move (milliseconds). */
export function fakeClock(start = Date.now()) {
  let now = start;
  return {
    now: () => now,
    advance: (seconds: number) => void (now += seconds * 1000),
    /** Back to the real time (Auth.js stamps provider expiries with the real clock). */
    reset: () => void (now = Date.now()),
  };
}

/**
 * A fresh PostgreSQL database with the committed PostgreSQL migrations, when the suite is run for
 * PostgreSQL (`KIT_TEST_DB=postgres`; server from TEST_POSTGRES_URL). Returns its URL and a drop.
 */
async function migratedPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const name = `kit_test_${process.pid}_${Date.now().toString(36)}`;
  const { default: pg } = await import("pg");
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const { migratePostgres } = await import("../../scripts/db-migrate");
  await migratePostgres(url.toString(), () => {});
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

export const TEST_DB = process.env.KIT_TEST_DB === "postgres" ? "postgresql" : "sqlite";

/** Auth.js's session strategy the suite runs with (KIT_TEST_STRATEGY=database for the database one). */
export type Strategy = "jwt" | "database";
export const STRATEGY: Strategy = process.env.KIT_TEST_STRATEGY === "database" ? "database" : "jwt";

/** A fresh, migrated database of the kind this run tests, and how to drop it. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (TEST_DB === "postgresql") return migratedPostgres();
  const url = await migratedDatabase();
  return { url, drop: async () => rmSync(path.dirname(url.slice("file:".length)), { recursive: true, force: true }) };
}

/**
 * `backchannelLogoutUri`: where the provider POSTs the app's logout tokens (a test's own server);
 * `behaviour`: the bundled provider answering like another provider; `client`: the app's client
 * at the provider, another id or secret (`AUTH_OIDC_ID` / `AUTH_OIDC_SECRET`).
 */
/** The provider a harness runs against: the bundled oidc-provider, or LemonLDAP::NG (a second, independent one). */
interface HarnessProvider {
  issuer: string;
  close(): Promise<void>;
  /** Drive its login (and consent) pages from an authorization URL to the redirect back. */
  login(authorize: URL, login: string, redirectUri: string, options?: DevLoginOptions): Promise<URL>;
}

/** The LemonLDAP client the suite registers: an id with hyphens, as many real registrations have. */
export const LLNG_CLIENT = { clientId: "claims-kit-app", clientSecret: "claims-kit-llng-secret" };

async function startProvider(options: { idp?: "bundled" | "lemonldap"; backchannelLogoutUri?: string; behaviour?: ProviderBehaviour; client: typeof CLIENT }): Promise<HarnessProvider & { llng?: RunningLemonLdap; bundled?: DevProvider }> {
  if (options.idp === "lemonldap") {
    const { startLemonLdap } = await import("../../scripts/lemonldap/llng");
    const { llngLoginAt } = await import("../../scripts/lemonldap/login");
    const llng = await startLemonLdap({ clients: [{ ...options.client, redirectUris: [`${APP_URL}/api/auth/callback/oidc`], postLogoutRedirectUris: [`${APP_URL}/`] }] });
    return { issuer: llng.issuer, close: () => llng.close(), login: (authorize, login, redirectUri, o) => llngLoginAt(authorize, login, redirectUri, { jar: o?.jar, onForm: o?.onForm }), llng };
  }
  const provider = await startOidcProvider({
    port: 0,
    clients: [{ ...options.client, redirectUris: [`${APP_URL}/api/auth/callback/oidc`], backchannelLogoutUri: options.backchannelLogoutUri }, { ...WORK_CLIENT, redirectUris: [`${APP_URL}/api/auth/callback/work`] }],
    logger: () => {},
    behaviour: options.behaviour,
  });
  return { issuer: provider.issuer, close: () => provider.close(), login: devLoginAt, bundled: provider };
}

type DevProvider = Awaited<ReturnType<typeof startOidcProvider>>;

export async function startHarness(options: { clock?: () => number; claimsMaxAge?: number; tokenMode?: "vault" | "cookie"; backchannelLogoutUri?: string; behaviour?: ProviderBehaviour; client?: Partial<typeof CLIENT>; idp?: "bundled" | "lemonldap"; env?: Record<string, string>; strategy?: Strategy } = {}) {
  const strategy = options.strategy ?? STRATEGY;
  const db = await freshDatabase();
  const client = { ...(options.idp === "lemonldap" ? LLNG_CLIENT : CLIENT), ...options.client };
  const provider = await startProvider({ ...options, client });
  const { llng } = provider;
  // The app's configuration as values, as a deployment's environment would give them (the second,
  // linkable provider is a second client of the bundled one only). Nothing is set in process.env.
  const { readEnv } = await import("../../app/_lib/env");
  const env = readEnv({
    NODE_ENV: "test",
    DATABASE_URL: db.url,
    AUTH_SECRET: SECRET,
    AUTH_OIDC_ISSUER: provider.issuer,
    AUTH_OIDC_ID: client.clientId,
    AUTH_OIDC_SECRET: client.clientSecret,
    AUTH_TOKEN_MODE: options.tokenMode ?? "vault",
    AUTH_SESSION_STRATEGY: strategy,
    // Short enough for the timeout fault to be a quick test.
    OAUTH_REFRESH_TIMEOUT_MS: "1500",
    ...(options.idp === "lemonldap" ? {} : { AUTH_WORK_ISSUER: provider.issuer, AUTH_WORK_ID: WORK_CLIENT.clientId, AUTH_WORK_SECRET: WORK_CLIENT.clientSecret }),
    ...options.env,
  });

  // A Prisma client that reports every SQL statement, so tests can count the queries a request makes.
  const { createPrismaClient } = await import("../../app/_lib/db-client");
  const prisma = createPrismaClient(db.url, { logQueries: true });
  const queries: string[] = [];
  (prisma as unknown as { $on(event: "query", fn: (e: { query: string }) => void): void }).$on("query", (e) => queries.push(e.query));

  const { createAuth } = await import("../../auth.config");
  const { getToken } = await import("@auth/core/jwt");
  const { expireRemoved, guardAuthRequest, linkSessionCookie } = await import("../../lib/claims-kit/next/internal/route-guard");
  // What nextClaimsKit()'s requestInfo reads in a Next request, read here from the request Auth() is handling.
  const requests = new AsyncLocalStorage<Request>();
  const { sessionIdOfToken } = await import("../../lib/claims-kit/engine/meta");
  const requestInfo = async () => {
    const req = requests.getStore();
    if (!req) return {};
    if (strategy === "jwt") return { userAgent: req.headers.get("user-agent"), previousToken: await getToken({ req, secret: SECRET, secureCookie: false }) };
    const sessionToken = /(?:^|;\s*)authjs\.session-token=([^;]+)/.exec(req.headers.get("cookie") ?? "")?.[1];
    return { userAgent: req.headers.get("user-agent"), previousSessionId: sessionToken ? await sessionIdOfToken(sessionToken) : null };
  };
  const app = createAuth(env, { prisma, clock: options.clock, claimsMaxAge: options.claimsMaxAge, requestInfo });
  const { kit, oauth, linkProviders, authConfig } = app;
  const { internalsOf } = await import("../../lib/claims-kit/engine/kit");
  // The kit's plumbing (expand, sessionId, stageServerUpdate…), as the Next helpers use it.
  const internals = internalsOf(kit);
  const { seed } = await import("../../prisma/seed-data");
  const { Auth } = await import("@auth/core");
  const { isSessionRead, readSessionResponse } = await import("../../lib/claims-kit/next/internal/session-reads");
  const tenants = await seed(prisma);
  // As nextClaimsKit() does under the database strategy: the kit learns of each Session row.
  const config = { ...authConfig, ...(strategy === "database" ? { adapter: kit.adapter(authConfig.adapter) } : {}), basePath: "/api/auth", secret: SECRET, trustHost: true };

  /** One browser: a cookie jar and the Auth.js endpoints it calls. */
  class Browser {
    readonly jar = new CookieJar();

    async fetch(pathname: string, init: RequestInit = {}): Promise<Response> {
      const headers = new Headers(init.headers);
      const cookie = this.jar.header();
      if (cookie) headers.set("cookie", cookie);
      const request = new Request(new URL(pathname, APP_URL), { ...init, headers });
      // As the app's route handler does (guardedHandlers): only session and signout see the session
      // cookie, and the callback of a linkable provider while that session is active.
      const name = linkSessionCookie(request, { providers: linkProviders });
      const previous = name ? await getToken({ req: request, secret: SECRET, secureCookie: name.startsWith("__Secure-"), cookieName: name, salt: name }) : null;
      const keepSession = name && previous !== null && (await internals.isActive(previous)) ? name : undefined;
      const { request: safe, removed } = guardAuthRequest(request, { keepSession });
      // Session reads as the route serves them (guardedHandlers with the config): without a CSRF token.
      const handle = () => (isSessionRead(safe, config) ? readSessionResponse(safe, config) : Auth(safe, config));
      const response = expireRemoved(await requests.run(request, handle), removed);
      this.jar.store(response);
      return response;
    }

    async csrf(): Promise<string> {
      const body = (await (await this.fetch("/api/auth/csrf")).json()) as { csrfToken: string };
      return body.csrfToken;
    }

    /** The whole OIDC sign-in: Auth.js -> provider login/consent -> Auth.js callback ("work": link the second provider). */
    /**
     * `options.params`: more authorization parameters (a step-up's max_age, acr_values);
     * `options.login`: the provider browser's cookie jar, extra login fields, a form observer.
     */
    async signIn(login: string, providerId: "oidc" | "work" = "oidc", options: { params?: Record<string, string>; login?: DevLoginOptions } = {}): Promise<void> {
      const csrfToken = await this.csrf();
      const query = options.params ? `?${new URLSearchParams(options.params)}` : "";
      const start = await this.fetch(`/api/auth/signin/${providerId}${query}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken, callbackUrl: `${APP_URL}/dashboard` }),
      });
      const authorize = start.headers.get("location");
      if (start.status !== 302 || !authorize) throw new Error(`sign-in did not redirect (HTTP ${start.status})`);
      const callback = await provider.login(new URL(authorize), login, `${APP_URL}/api/auth/callback/${providerId}`, options.login);
      const done = await this.fetch(callback.pathname + callback.search);
      const location = done.headers.get("location") ?? "";
      if (done.status !== 302 || !location.endsWith("/dashboard")) throw new Error(`callback failed: HTTP ${done.status} -> ${location}`);
    }

    async session<S = Record<string, unknown>>(): Promise<S | null> {
      return (await (await this.fetch("/api/auth/session")).json()) as S | null;
    }

    /** What `useSession().update(data)` sends. */
    async update<S = Record<string, unknown>>(data: unknown): Promise<{ status: number; session: S | null }> {
      const csrfToken = await this.csrf();
      const response = await this.fetch("/api/auth/session", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(data === undefined ? { csrfToken } : { csrfToken, data }),
      });
      return { status: response.status, session: (await response.json()) as S | null };
    }

    /** The session's token as the kit keeps it (server's view, token-only claims included): the cookie's, or the database session's state. */
    async token(): Promise<Record<string, unknown> | null> {
      const value = this.jar.get("authjs.session-token");
      if (!value) return null;
      if (strategy === "database") {
        const state = await internals.stateOfSessionToken(value);
        return state ? internals.expand(state) : null;
      }
      const { decode } = await import("@auth/core/jwt");
      const token = await decode({ token: value, secret: SECRET, salt: "authjs.session-token" });
      return token ? internals.expand(token) : null;
    }
  }

  return {
    /** The app as the harness composed it (createAuth): its configuration, kit, oauth, back-channel receiver. */
    app,
    env,
    strategy,
    /** The bundled provider (its stats, faults, sessions); undefined when the harness runs against LemonLDAP. */
    provider: provider.bundled!,
    /** LemonLDAP::NG, when the harness runs against it (`idp: "lemonldap"`): its counts, endOfflineSessions. */
    llng,
    issuer: provider.issuer,
    prisma,
    /** The Auth.js config the browsers' requests run with (`NextAuth()`'s, defaults filled in). */
    config,
    /** A request through Auth.js's own handler, as next-auth's route would serve it (no kit route). */
    authjs: (request: Request) => requests.run(request, () => Auth(request, config)),
    kit,
    internals,
    oauth,
    /** Make the provider's next `count` refresh_token grants fail this way (`retryAfter`: seconds, for 503 and 429). */
    async fault(mode: FaultMode, count = 1, retryAfter?: number): Promise<void> {
      const response = await fetch(`${provider.bundled!.issuer}/__dev/fault`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode, count, retryAfter }) });
      if (!response.ok) throw new Error(`fault injection failed: HTTP ${response.status}`);
    },
    /** SQL statements run since the last call, and reset. */
    takeQueries(): string[] {
      return queries.splice(0, queries.length);
    },
    tenants,
    browser: () => new Browser(),
    async close() {
      await app.close();
      await prisma.$disconnect();
      await provider.close();
      await db.drop();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
/** The reference app's session type, as `auth()` and `useSession()` return it. */
export type AppSession = SessionOf<AppKit>;
