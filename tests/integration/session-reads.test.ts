// Session reads served by the kit (guardedHandlers / nextHelpers with the Auth.js config) answer
// exactly what Auth.js's own handler answers, minus the CSRF cookie Auth.js mints on a read; every
// other action keeps Auth.js's CSRF check.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { getToken } from "@auth/core/jwt";
import { openedStats } from "../../lib/claims-kit/codec";
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
  const { sessionJwt } = await import("../../auth.config");
  assert.ok(sessionJwt, "the app's default codec");
  const b = h.browser();
  await b.signIn("alice@example.com");
  await b.session(); // a new cookie, not opened yet
  const headers = new Headers({ host: new URL(APP_URL).host, "x-forwarded-proto": "http", cookie: `${SESSION}=${b.jar.get(SESSION)}` });
  const decodeAsProxy = () => getToken({ req: { headers }, secret: process.env.AUTH_SECRET!, secureCookie: false, salt: SESSION, decode: sessionJwt.decode });

  const before = openedStats();
  assert.ok(await decodeAsProxy(), "the proxy's read (refreshingProxy)");
  assert.ok(await readServerSession(headers, h.config), "auth(), memoised for the layout and the page");
  assert.ok(await decodeAsProxy(), "readToken() / sessionActive() in the page");
  const after = openedStats();
  assert.deepEqual({ decrypted: after.decrypted - before.decrypted, reused: after.reused - before.reused }, { decrypted: 1, reused: 2 });
});
