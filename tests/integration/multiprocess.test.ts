// Two `next start` processes share one database and one rotating refresh token: at expiry, 50
// concurrent session reads spread over both make exactly one call to the provider.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { decode, encode } from "@auth/core/jwt";
import { createPrismaClient } from "../../app/_lib/db-client";
import type { CookieJar } from "../../scripts/oidc/dev-login";
import { freePort, signInOverHttp, waitForNextReady } from "../../scripts/next-server";
import { startOidcProvider } from "../../scripts/oidc/provider";
import { freshDatabase } from "./harness";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SECRET = "multiprocess-test-secret-0123456789abcdef";
const CLIENT = { clientId: "multi-app", clientSecret: "multi-secret" };

let provider: Awaited<ReturnType<typeof startOidcProvider>>;
let dbInfo: Awaited<ReturnType<typeof freshDatabase>>;
const servers: ChildProcess[] = [];
const ports: number[] = [];

before(async () => {
  ports.push(await freePort(), await freePort());
  dbInfo = await freshDatabase();
  provider = await startOidcProvider({
    port: 0,
    clients: [{ ...CLIENT, redirectUris: ports.map((p) => `http://localhost:${p}/api/auth/callback/oidc`) }],
    logger: () => {},
  });
  for (const port of ports) {
    const child = spawn(path.join(ROOT, "node_modules/.bin/next"), ["start", "-p", String(port), "-H", "localhost"], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: "production",
        DATABASE_URL: dbInfo.url,
        AUTH_SECRET: SECRET,
        AUTH_TRUST_HOST: "true",
        AUTH_OIDC_ISSUER: provider.issuer,
        AUTH_OIDC_ID: CLIENT.clientId,
        AUTH_OIDC_SECRET: CLIENT.clientSecret,
        NEXT_TELEMETRY_DISABLED: "1",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    servers.push(child);
    await waitForNextReady(child, `next start :${port}`, `http://localhost:${port}/api/auth/providers`);
  }
});

after(async () => {
  for (const s of servers) s.kill("SIGTERM");
  await Promise.all(servers.map((s) => (s.exitCode !== null ? null : new Promise((r) => s.once("exit", r)))));
  await provider?.close();
  await dbInfo?.drop();
});

/** Sign in through instance `port` over HTTP, as a browser would; returns the cookie jar. */
async function signIn(port: number, login: string): Promise<CookieJar> {
  const jar = await signInOverHttp(`http://localhost:${port}`, login);
  assert.ok(jar.get("authjs.session-token"), "signed in");
  return jar;
}

describe("two next start processes sharing one database", () => {
  test("50 concurrent session reads at expiry, spread over both, make exactly one refresh call", async () => {
    const jar = await signIn(ports[0]!, "multi@example.com");
    // Arrange "the access token has expired" without waiting for it: the vault row and the cookie's
    // expiry hint both say it expired a minute ago (the cookie re-encoded with the app's secret).
    const now = Math.floor(Date.now() / 1000);
    const token = (await decode({ token: jar.get("authjs.session-token")!, secret: SECRET, salt: "authjs.session-token" }))!;
    const hint = token.oauth as { p: string; a: string; e: number; i: number };
    jar.set("authjs.session-token", await encode({ token: { ...token, oauth: { ...hint, e: now - 60, i: now - 3660 } }, secret: SECRET, salt: "authjs.session-token" }));
    const db = createPrismaClient(dbInfo.url);
    await db.$executeRaw`UPDATE "Account" SET "expires_at" = ${now - 60}, "refreshedAt" = ${now - 3660} WHERE "provider" = ${hint.p} AND "providerAccountId" = ${hint.a}`;
    await db.$disconnect();

    provider.reset();
    const responses = await Promise.all(
      [...Array(50)].map((_, n) => fetch(`http://localhost:${ports[n % 2]}/api/auth/session`, { headers: { cookie: jar.header() } })),
    );
    const sessions = (await Promise.all(responses.map((r) => r.json()))) as Array<{ user?: { email?: string }; errors?: unknown } | null>;
    const stats = provider.stats();
    assert.equal(stats.refreshGrants, 1, `refresh calls: ${stats.refreshGrants}`);
    assert.equal(stats.refreshSuccess, 1);
    assert.equal(stats.reuseDetected, 0);
    for (const s of sessions) {
      assert.equal(s?.user?.email, "multi@example.com");
      assert.equal(s?.errors, undefined, JSON.stringify(s?.errors));
    }
  });
});

describe("revocation across two processes (issue #14: no query per read, revocation everywhere)", () => {
  test("a session read on B is served from memory, and B refuses the cookie once A signs it out", async (t) => {
    const latencies: number[] = [];
    for (let round = 0; round < 10; round++) {
      const jar = await signIn(ports[0]!, `revoke${round}@example.com`);
      const cookie = jar.header();
      const onB = async () => (await (await fetch(`http://localhost:${ports[1]}/api/auth/session`, { headers: { cookie } })).json()) as { user?: { email?: string } } | null;
      assert.equal((await onB())?.user?.email, `revoke${round}@example.com`, "B accepts the session");

      // Sign out on A (Auth.js's own endpoint): the kit revokes the session in the registry there.
      const { csrfToken } = (await (await fetch(`http://localhost:${ports[0]}/api/auth/csrf`, { headers: { cookie } })).json()) as { csrfToken: string };
      const csrfCookie = cookie;
      const started = performance.now();
      const out = await fetch(`http://localhost:${ports[0]}/api/auth/signout`, {
        method: "POST", redirect: "manual",
        headers: { cookie: csrfCookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken }),
      });
      assert.equal(out.status, 302);
      // B learns of it through the change feed (PostgreSQL NOTIFY) or its poll of the change log:
      // wait on that state (the test's own timeout bounds it).
      while ((await onB()) !== null) await new Promise((resolve) => setTimeout(resolve, 25));
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    t.diagnostic(`revocation on A → refused on B (${process.env.KIT_TEST_DB === "postgres" ? "PostgreSQL, LISTEN/NOTIFY" : "SQLite, 1 s poll"}): p50 ${latencies[4]!.toFixed(0)} ms, max ${latencies[9]!.toFixed(0)} ms over 10`);
  });
});
