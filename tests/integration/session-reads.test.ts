// Session reads served by the kit (guardedHandlers / nextHelpers with the Auth.js config) answer
// exactly what Auth.js's own handler answers, minus the CSRF cookie Auth.js mints on a read; every
// other action keeps Auth.js's CSRF check. The last tests come from an attack review.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Auth } from "@auth/core";
import { getToken } from "@auth/core/jwt";
import { openedStats } from "../../lib/claims-kit/codec/jwe";
import { isSessionRead, readServerSession, readSessionResponse } from "../../lib/claims-kit/next/internal/session-reads";
import { guardAuthRequest, linkSessionCookie } from "../../lib/claims-kit/next/internal/route-guard";
import { readSessionToken, sessionCookieOf } from "../../lib/claims-kit/next/internal/cookie";
import { refreshingProxy } from "../../lib/claims-kit/next/internal/proxy";
import { APP_URL, startHarness, type Harness, SECRET } from "./harness";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const SESSION = "authjs.session-token";
const CSRF = "authjs.csrf-token";

/** A GET of the session endpoint with this Cookie header. */
const read = (cookie: string) => new Request(`${APP_URL}/api/auth/session`, { headers: cookie ? { cookie } : {} });

/** Set-Cookie lines by name, with the value and the (time-dependent) Expires left out. */
function setCookies(response: Response): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of response.headers.getSetCookie()) {
    const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
    const name = pair.slice(0, pair.indexOf("="));
    const cleared = pair.endsWith("=") ? "(cleared) " : "";
    out.set(name, cleared + attributes.filter((a) => !/^expires=/i.test(a)).sort().join("; "));
  }
  return out;
}

const HEADERS = ["content-type", "cache-control", "expires", "pragma"];

/** Both answers to the same read; the body's `expires` (now + maxAge, to the millisecond) aside. */
async function both(cookie: string) {
  const authjs = await h.authjs(read(cookie));
  const kit = await readSessionResponse(read(cookie), h.config);
  const body = async (r: Response) => {
    const json = (await r.json()) as Record<string, unknown> | null;
    if (json) delete json.expires;
    return json;
  };
  return { authjs, kit, authjsBody: await body(authjs), kitBody: await body(kit) };
}

function sameAnswer(label: string, r: Awaited<ReturnType<typeof both>>, options: { csrfMinted: boolean }): void {
  assert.equal(r.kit.status, r.authjs.status, `${label}: status`);
  for (const name of HEADERS) assert.equal(r.kit.headers.get(name), r.authjs.headers.get(name), `${label}: ${name}`);
  assert.deepEqual(r.kitBody, r.authjsBody, `${label}: body`);
  const expected = setCookies(r.authjs);
  assert.equal(expected.has(CSRF), options.csrfMinted, `${label}: Auth.js mints a CSRF cookie only when the request has none`);
  expected.delete(CSRF);
  assert.deepEqual(setCookies(r.kit), expected, `${label}: Set-Cookie`);
}

test("a signed-in read: Auth.js's body, headers and session cookie, without minting a CSRF cookie", async () => {
  const b = h.browser();
  await b.signIn("alice@example.com");
  const session = `${SESSION}=${b.jar.get(SESSION)}`;

  const bare = await both(session);
  assert.equal((bare.kitBody?.user as { email?: string } | undefined)?.email, "alice@example.com");
  assert.ok(setCookies(bare.kit).has(SESSION), "the session cookie is re-issued");
  sameAnswer("without a CSRF cookie", bare, { csrfMinted: true });

  // A browser that has been through sign-in carries the CSRF cookie: Auth.js sets none either.
  sameAnswer("with the CSRF cookie", await both(`${session}; ${CSRF}=${b.jar.get(CSRF)}`), { csrfMinted: false });

  // The kit's re-issued cookie is a session Auth.js reads back.
  const reissued = (await readSessionResponse(read(session), h.config)).headers.getSetCookie().find((c) => c.startsWith(`${SESSION}=`))!;
  const next = reissued.slice(0, reissued.indexOf(";"));
  const again = (await (await h.authjs(read(next))).json()) as { user?: { email?: string } } | null;
  assert.equal(again?.user?.email, "alice@example.com");
});

test("no cookie, a tampered cookie and a signed-out session's copy answer as Auth.js does", async () => {
  sameAnswer("no cookie", await both(""), { csrfMinted: true });
  const none = await both("");
  assert.equal(none.kitBody, null);

  const b = h.browser();
  await b.signIn("bob@example.com");
  const value = b.jar.get(SESSION)!;
  const flipped = `${value.slice(0, -5)}${value.at(-5) === "A" ? "B" : "A"}${value.slice(-4)}`;
  const tampered = await both(`${SESSION}=${flipped}`);
  sameAnswer("tampered", tampered, { csrfMinted: true });
  assert.equal(tampered.kitBody, null);
  assert.match(setCookies(tampered.kit).get(SESSION) ?? "", /^\(cleared\)/, "the broken cookie is cleared");

  const copy = `${SESSION}=${value}`;
  const csrfToken = await b.csrf();
  await b.fetch("/api/auth/signout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken }) });
  const revoked = await both(copy);
  sameAnswer("signed-out copy", revoked, { csrfMinted: true });
  assert.equal(revoked.kitBody, null, "a copy of a signed-out session's cookie is refused");
});

test("only GET of the session endpoint is a session read; update() keeps Auth.js's CSRF check", async () => {
  assert.equal(isSessionRead(read(""), h.config), true);
  assert.equal(isSessionRead(new Request(`${APP_URL}/api/auth/session?x=1`), h.config), true);
  assert.equal(isSessionRead(new Request(`${APP_URL}/api/auth/session`, { method: "POST" }), h.config), false);
  assert.equal(isSessionRead(new Request(`${APP_URL}/api/auth/sessions`), h.config), false);
  assert.equal(isSessionRead(new Request(`${APP_URL}/other/api/auth/session`), h.config), false);
  assert.equal(isSessionRead(new Request(`${APP_URL}/auth/session`), { ...h.config, basePath: "/auth" }), true);

  const b = h.browser();
  await b.signIn("alice@example.com");
  const before = await b.session<{ claims: { displayName?: string } }>();
  const forged = await b.fetch("/api/auth/session", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ data: { intent: "setDisplayName", input: { displayName: "No CSRF" } } }),
  });
  assert.equal(forged.status, 400, "an update without the CSRF token is refused");
  assert.deepEqual((await b.session<{ claims: { displayName?: string } }>())?.claims, before?.claims);
});

test("readServerSession answers as next-auth's auth() in a server component, and null when signed out", async () => {
  const b = h.browser();
  await b.signIn("alice@example.com");
  const headers = new Headers({ host: new URL(APP_URL).host, "x-forwarded-proto": "http", cookie: `${SESSION}=${b.jar.get(SESSION)}` });
  const session = (await readServerSession(headers, h.config)) as { user?: { email?: string }; claims?: unknown; expires?: string } | null;
  const endpoint = (await (await h.authjs(read(headers.get("cookie")!))).json()) as { user?: unknown; claims?: unknown };
  assert.equal(session?.user?.email, "alice@example.com");
  assert.deepEqual(session?.claims, endpoint.claims, "the same claims as the session endpoint");
  assert.deepEqual(session?.user, endpoint.user, "the app's session() user wins over the token, as in next-auth");
  assert.ok(session?.expires && Date.parse(session.expires) > Date.now());

  assert.equal(await readServerSession(new Headers({ host: new URL(APP_URL).host, "x-forwarded-proto": "http" }), h.config), null);
});

test("a page's reads of one cookie (the proxy, auth() for layout and page, the server helpers) decrypt it once", async () => {
  const { sessionJwt } = h.app;
  assert.ok(sessionJwt, "the app's default codec");
  const b = h.browser();
  await b.signIn("alice@example.com");
  await b.session(); // a new cookie, not opened yet
  const headers = new Headers({ host: new URL(APP_URL).host, "x-forwarded-proto": "http", cookie: `${SESSION}=${b.jar.get(SESSION)}` });
  const decodeAsProxy = () => getToken({ req: { headers }, secret: SECRET, secureCookie: false, salt: SESSION, decode: sessionJwt.decode });

  const before = openedStats();
  assert.ok(await decodeAsProxy(), "the proxy's read (refreshingProxy)");
  assert.ok(await readServerSession(headers, h.config), "auth(), memoised for the layout and the page");
  assert.ok(await decodeAsProxy(), "readToken() / sessionActive() in the page");
  const after = openedStats();
  assert.deepEqual({ decrypted: after.decrypted - before.decrypted, reused: after.reused - before.reused }, { decrypted: 1, reused: 2 });
});

// From the attack review of these reads (commit 21f1b64): what held, and the forwarded-header
// finding pinned as its fix.
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
  {
    // The app's AUTH_URL is https; the browser, served over it, holds the __Secure- cookie; the server sees http://internal.
    const token = (await h.config.jwt!.decode!({ token: b.jar.get(SESSION)!, secret: SECRET, salt: SESSION }))!;
    const secureValue = await h.config.jwt!.encode!({ token, secret: SECRET, salt: `__Secure-${SESSION}` });
    const reissued = `__Secure-${SESSION}=${secureValue}`;
    const request = () => new Request("http://internal:3000/api/auth/session", { headers: { cookie: reissued } });
    const kit = await readSessionResponse(request(), h.config, "https://app.example.com");
    const authjs = await Auth(new Request("https://app.example.com/api/auth/session", request()), h.config);
    assert.equal(kit.status, authjs.status);
    const [k, a] = [(await kit.json()) as { user?: unknown } | null, (await authjs.json()) as { user?: unknown } | null];
    assert.deepEqual(k?.user, a?.user);
    assert.equal((k?.user as { email?: string } | undefined)?.email, "alice@example.com");
    assert.ok(kit.headers.getSetCookie().some((c) => c.startsWith(`__Secure-${SESSION}=`)), "re-issued under the AUTH_URL's __Secure- name");
    assert.ok(kit.headers.getSetCookie().every((c) => !c.startsWith(`${SESSION}=`)));
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

// Security round 3 (#22, cookie names): auth() picks the session cookie's name from the request's
// protocol (x-forwarded-proto), while readToken() (hence requireRecentAuth's auth_time, sessionActive,
// readServerData, getAccessToken, nextRequestInfo) and the proxy preferred the __Secure- cookie
// whenever one was present. A stale or planted __Secure- cookie next to the real one over http then
// had auth() vouch for one session while the helpers read another's claims.
test("attack: with both a __Secure- and a plain session cookie, every reader reads the one auth() reads", async () => {
  const { sessionJwt } = h.app;
  const secret = SECRET;
  const [victim, other] = [h.browser(), h.browser()];
  await victim.signIn("alice@example.com");
  await other.signIn("bob@example.com");
  const plain = victim.jar.get(SESSION)!;
  const bobToken = (await h.config.jwt!.decode!({ token: other.jar.get(SESSION)!, secret, salt: SESSION }))!;
  const planted = await h.config.jwt!.encode!({ token: bobToken, secret, salt: `__Secure-${SESSION}` });
  const cookie = `__Secure-${SESSION}=${planted}; ${SESSION}=${plain}`;
  /** Whose session each reader sees for one request (`authUrl`: the app's AUTH_URL, when set). */
  async function readers(url: string, forwardedProto: string, authUrl?: string) {
    const options = { secret, decode: sessionJwt?.decode, authUrl };
    const headers = new Headers({ host: HOST, "x-forwarded-proto": forwardedProto, cookie });
    const email = async (sub: unknown) => (typeof sub === "string" ? (await h.prisma.user.findUnique({ where: { id: sub } }))?.email : undefined) ?? null;
    const auth = (await readServerSession(headers, h.config, authUrl)) as { user?: { email?: string } } | null;
    // readToken(), sessionId(), sessionActive(), readServerData(), getAccessToken(), requireRecentAuth()'s
    // token and nextRequestInfo() all decode through readSessionToken(headers()) (next/server.ts).
    const helpers = await readSessionToken(headers, options);
    let proxied: unknown = null;
    const isDue = (token: { sub?: unknown }) => {
      proxied = token.sub;
      return false;
    };
    const proxy = refreshingProxy({ kit: h.kit, handler: async () => new Response(null), cookie: () => options, isDue });
    const { NextRequest } = await import("next/server");
    await proxy(new NextRequest(`${url}/dashboard`, { headers }));
    // guardedHandlers(): the cookie the link callback may keep (checked active), all others stripped.
    const callback = new Request(`${url}/api/auth/callback/work?code=c`, { headers });
    const linkName = linkSessionCookie(callback, { providers: ["work"], authUrl })!;
    const kept = guardAuthRequest(callback, { keepSession: linkName }).request.headers.get("cookie") ?? "";
    const linked = await readSessionToken(new Headers({ cookie: kept }), options, linkName);
    return {
      "auth()": auth?.user?.email ?? null,
      "readToken() and the other helpers": await email(helpers?.sub),
      "inspectCookie()": sessionCookieOf(options, { headers }).name === linkName ? (auth?.user?.email ?? null) : "another cookie",
      "the proxy": await email(proxied),
      "the link guard": await email(linked?.sub),
    };
  }
  const all = (email: string) => ({ "auth()": email, "readToken() and the other helpers": email, "inspectCookie()": email, "the proxy": email, "the link guard": email });

  assert.deepEqual(await readers("http://localhost:3999", "http"), all("alice@example.com"), "over http: the plain cookie, for every reader");
  assert.deepEqual(await readers("https://localhost:3999", "https"), all("bob@example.com"), "over https: the __Secure- cookie, for every reader");
  assert.deepEqual(await readers("http://localhost:3999", "http", "https://app.example.com"), all("bob@example.com"), "AUTH_URL decides over the forwarded protocol, for every reader");
});
