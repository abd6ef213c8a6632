// Two `next start` processes share one database and one rotating refresh token: at expiry, 50
// concurrent session reads spread over both make exactly one call to the provider.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { decode } from "@auth/core/jwt";
import { CookieJar, devLoginAt } from "../../scripts/oidc/dev-login";
import { startOidcProvider } from "../../scripts/oidc/provider";
import { freshDatabase } from "./harness";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SECRET = "multiprocess-test-secret-0123456789abcdef";
const CLIENT = { clientId: "multi-app", clientSecret: "multi-secret" };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

let provider: Awaited<ReturnType<typeof startOidcProvider>>;
let db: Awaited<ReturnType<typeof freshDatabase>>;
const servers: ChildProcess[] = [];
const ports: number[] = [];

before(async () => {
  ports.push(await freePort(), await freePort());
  db = await freshDatabase();
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
        DATABASE_URL: db.url,
        AUTH_SECRET: SECRET,
        AUTH_TRUST_HOST: "true",
        AUTH_OIDC_ISSUER: provider.issuer,
        AUTH_OIDC_ID: CLIENT.clientId,
        AUTH_OIDC_SECRET: CLIENT.clientSecret,
        NEXT_TELEMETRY_DISABLED: "1",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    servers.push(child);
    await waitForHttp(`http://localhost:${port}/api/auth/providers`, child);
  }
});

after(async () => {
  for (const s of servers) s.kill("SIGTERM");
  await Promise.all(servers.map((s) => (s.exitCode !== null ? null : new Promise((r) => s.once("exit", r)))));
  await provider?.close();
  await db?.drop();
});

/** Sign in through instance `port` over HTTP, as a browser would; returns the cookie jar. */
async function signIn(port: number, login: string): Promise<CookieJar> {
  const base = `http://localhost:${port}`;
  const jar = new CookieJar();
  const get = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: jar.header() } });
    jar.store(response);
    return response;
  };
  const { csrfToken } = (await (await get(`${base}/api/auth/csrf`)).json()) as { csrfToken: string };
  const start = await get(`${base}/api/auth/signin/oidc`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken, callbackUrl: `${base}/dashboard` }),
  });
  const callback = await devLoginAt(new URL(start.headers.get("location")!), login, `${base}/api/auth/callback/oidc`);
  const done = await get(callback.toString());
  assert.equal(done.status, 302);
  assert.ok(jar.get("authjs.session-token"), "signed in");
  return jar;
}

describe("two next start processes sharing one database", () => {
  test("50 concurrent session reads at expiry, spread over both, make exactly one refresh call", async () => {
    const jar = await signIn(ports[0]!, "multi+ttl4@example.com");
    const token = await decode({ token: jar.get("authjs.session-token")!, secret: SECRET, salt: "authjs.session-token" });
    const { e, i } = token!.oauth as { e: number; i: number };
    // Wait for the state the test is about: the access token due (half its 4 s lifetime).
    const dueAt = (e - Math.min(60, Math.floor((e - i) / 2))) * 1000;
    while (Date.now() < dueAt + 50) await new Promise((r) => setTimeout(r, Math.min(200, dueAt + 50 - Date.now())));

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
