// Security review of the CSRF-free session reads (readSessionResponse / readServerSession, commit
// 21f1b64): what held, and the forwarded-header finding pinned as its fix.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Auth } from "@auth/core";
import { isSessionRead, readServerSession, readSessionResponse } from "../../lib/claims-kit/next/session-reads";
import { APP_URL, startHarness, type Harness } from "./harness";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const SESSION = "authjs.session-token";
const HOST = new URL(APP_URL).host;

test("a forwarded host or protocol that would point readServerSession at another Auth.js action gives no session", async () => {
  // A signed-out visitor sends the header itself: Next.js only fills x-forwarded-host when absent.
  const injected = [
    new Headers({ host: HOST, "x-forwarded-proto": "http", "x-forwarded-host": `${HOST}/api/auth/providers?` }),
    new Headers({ host: HOST, "x-forwarded-proto": `http://${HOST}/api/auth/providers?` }),
  ];
  for (const headers of injected) {
    const session = await readServerSession(headers, h.config);
    // next-auth's own auth() builds the same URL (createActionURL) and returns the providers list.
    assert.equal(session, null, `signed out, yet auth() is truthy: ${JSON.stringify(session).slice(0, 120)}`);
  }
});

test("held: only an exact GET {basePath}/session skips the CSRF token, and it is always Auth.js's session action", async () => {
  const b = h.browser();
  await b.signIn("alice@example.com");
  const cookie = `${SESSION}=${b.jar.get(SESSION)}`;
  const variants: Array<[string, string]> = [
    ["GET", "/api/auth/session"],
    ["GET", "/api/auth/session?callbackUrl=https://evil.example/&csrfToken=x"],
    ["GET", "/api/auth/session#frag"],
    ["GET", "/api/auth/session/"],
    ["GET", "/api/auth//session"],
    ["GET", "/api/auth/%73ession"],
    ["GET", "/api/auth%2Fsession"],
    ["GET", "/api/auth/session/x"],
    ["GET", "/api/auth/./session"],
    ["GET", "/api/auth/x/../session"],
    ["GET", "/api/auth/signout?/api/auth/session"],
    ["GET", "/api/auth/callback/oidc?x=/api/auth/session"],
    ["GET", "/x/api/auth/session"],
    ["POST", "/api/auth/session"],
    ["HEAD", "/api/auth/session"],
    ["PUT", "/api/auth/session"],
    ["DELETE", "/api/auth/session"],
    ["OPTIONS", "/api/auth/session"],
  ];
  const accepted: string[] = [];
  for (const [method, path] of variants) {
    const request = new Request(new URL(path, APP_URL), { method, headers: { cookie, "x-auth-return-redirect": "1", "content-type": "application/json" }, body: method === "POST" || method === "PUT" ? JSON.stringify({ data: { intent: "setDisplayName", input: { displayName: "csrf" } } }) : undefined });
    if (!isSessionRead(request, h.config)) continue;
    accepted.push(`${method} ${path}`);
    assert.equal(method, "GET", `${method} ${path}`);
    assert.equal(new URL(request.url).pathname, "/api/auth/session", path);
    const response = await readSessionResponse(request, h.config);
    assert.equal(response.status, 200, path);
    const body = (await response.json()) as { user?: { email?: string }; claims?: { displayName?: string } };
    assert.equal(body.user?.email, "alice@example.com", path);
    assert.notEqual(body.claims?.displayName, "csrf", path);
  }
  assert.deepEqual(accepted, ["GET /api/auth/session", "GET /api/auth/session?callbackUrl=https://evil.example/&csrfToken=x", "GET /api/auth/session#frag", "GET /api/auth/./session", "GET /api/auth/x/../session"]);
});

test("held: with AUTH_URL on another origin a read answers as next-auth's handler (reqWithEnvURL) does", async () => {
  const b = h.browser();
  await b.signIn("alice@example.com");
  const saved = process.env.AUTH_URL;
  process.env.AUTH_URL = "https://app.example.com";
  try {
    // The browser, served over https, holds the __Secure- cookie; the server sees http://internal.
    const token = (await h.config.jwt!.decode!({ token: b.jar.get(SESSION)!, secret: process.env.AUTH_SECRET!, salt: SESSION }))!;
    const secureValue = await h.config.jwt!.encode!({ token, secret: process.env.AUTH_SECRET!, salt: `__Secure-${SESSION}` });
    const reissued = `__Secure-${SESSION}=${secureValue}`;
    const request = () => new Request("http://internal:3000/api/auth/session", { headers: { cookie: reissued } });
    const kit = await readSessionResponse(request(), h.config);
    const authjs = await Auth(new Request("https://app.example.com/api/auth/session", request()), h.config);
    assert.equal(kit.status, authjs.status);
    const [k, a] = [(await kit.json()) as { user?: unknown } | null, (await authjs.json()) as { user?: unknown } | null];
    assert.deepEqual(k?.user, a?.user);
    assert.equal((k?.user as { email?: string } | undefined)?.email, "alice@example.com");
    assert.ok(kit.headers.getSetCookie().some((c) => c.startsWith(`__Secure-${SESSION}=`)), "re-issued under the AUTH_URL's __Secure- name");
    assert.ok(kit.headers.getSetCookie().every((c) => !c.startsWith(`${SESSION}=`)));
  } finally {
    if (saved === undefined) delete process.env.AUTH_URL;
    else process.env.AUTH_URL = saved;
  }
});

test("held: readServerSession is null for no/tampered/revoked cookies and on a server configuration error", async () => {
  const base = { host: HOST, "x-forwarded-proto": "http" };
  assert.equal(await readServerSession(new Headers(base), h.config), null);
  const b = h.browser();
  await b.signIn("bob@example.com");
  const value = b.jar.get(SESSION)!;
  assert.equal(await readServerSession(new Headers({ ...base, cookie: `${SESSION}=${value.slice(0, -3)}AAA` }), h.config), null);
  // Another host's session cookie is the same cookie: the request never leaves the process.
  const other = await readServerSession(new Headers({ ...base, "x-forwarded-host": "evil.example", cookie: `${SESSION}=${value}` }), h.config);
  assert.equal((other as { user?: { email?: string } } | null)?.user?.email, "bob@example.com");
  // A config error (no secret) is a 500: null, not the error body.
  assert.equal(await readServerSession(new Headers({ ...base, cookie: `${SESSION}=${value}` }), { ...h.config, secret: undefined }), null);
  const csrfToken = await b.csrf();
  await b.fetch("/api/auth/signout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken }) });
  assert.equal(await readServerSession(new Headers({ ...base, cookie: `${SESSION}=${value}` }), h.config), null);
});
