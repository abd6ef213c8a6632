// OIDC Back-Channel Logout against the real provider: it POSTs logout tokens to a small HTTP
// server that hands them to the app's handler (auth.config.ts makeBackchannel, as the route
// app/api/auth/backchannel-logout does). Every refusal is checked to change nothing.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { backchannelLogout, BACKCHANNEL_LOGOUT_EVENT, type BackchannelLogoutHandler } from "../../lib/claims-kit/oidc";
import { prismaReplayStore } from "../../lib/claims-kit/prisma";
import { providerSignOutUrl } from "../../app/_lib/provider-sign-out";
import { CookieJar } from "../../scripts/oidc/dev-login";
import { APP_URL, startHarness, type Harness } from "./harness";

type Browser = ReturnType<Harness["browser"]>;

let h: Harness;
let server: Server;
let handler: BackchannelLogoutHandler;
/** Every logout token the provider delivered, and when the app had answered it (performance.now()). */
const delivered: Array<{ token: string; answeredAt: number; status: number }> = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const request = new Request(`${APP_URL}/api/auth/backchannel-logout`, { method: "POST", headers: { "content-type": String(req.headers["content-type"]) }, body });
      handler.POST(request).then(async (response) => {
        delivered.push({ token: new URLSearchParams(body).get("logout_token") ?? "", answeredAt: performance.now(), status: response.status });
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(await response.text());
      }, (err: unknown) => {
        res.writeHead(500);
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  h = await startHarness({ backchannelLogoutUri: `http://127.0.0.1:${port}/api/auth/backchannel-logout` });
  handler = h.app.backchannel;
});
after(async () => {
  await h.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Sign in as one browser: the app's cookies in `b`, the provider's (its session) in `idp`. */
const signIn = (b: Browser, idp: CookieJar, login: string) => b.signIn(login, "oidc", { login: { jar: idp } });

async function sessionRow(b: Browser) {
  const sid = h.internals.sessionId((await b.token()) as never)!;
  return h.prisma.userSession.findUniqueOrThrow({ where: { id: sid } });
}

async function live(b: Browser): Promise<boolean> {
  return (await b.session()) !== null;
}

/** The user at the provider signs out there (/session/end, "Yes, sign me out"); returns when the provider answered. */
async function signOutAtProvider(idp: CookieJar): Promise<{ startedAt: number }> {
  const page = await fetch(`${h.provider.issuer}/session/end`, { headers: { cookie: idp.header() } });
  idp.store(page);
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(await page.text())?.[1];
  assert.ok(xsrf, "the provider asks to confirm");
  const startedAt = performance.now();
  const confirm = await fetch(`${h.provider.issuer}/session/end/confirm`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: idp.header(), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ xsrf, logout: "yes" }),
  });
  assert.equal(confirm.status, 303);
  return { startedAt };
}

describe("back-channel logout from the bundled provider", () => {
  test("sign-in records the provider session and keeps auth_time, acr, amr from the id_token", async () => {
    const b = h.browser();
    await signIn(b, new CookieJar(), "erin@example.com");
    const row = await sessionRow(b);
    assert.equal(row.idpIssuer, h.provider.issuer);
    assert.equal(row.idpSubject, "erin@example.com");
    assert.match(row.idpSid ?? "", /^.{10,}$/, "the id_token carried sid (backchannel_logout_session_required)");
    const token = (await b.token())!;
    assert.equal(typeof token.auth_time, "number");
    assert.ok(Math.abs((token.auth_time as number) - Date.now() / 1000) < 30);
    assert.equal(token.acr, "pwd");
    assert.deepEqual(token.amr, ["pwd"]);
  });

  test("a sign-out at the provider ends that app session on its next request, and no other", async (t) => {
    const [phone, laptop] = [h.browser(), h.browser()];
    const [phoneIdp, laptopIdp] = [new CookieJar(), new CookieJar()];
    await signIn(phone, phoneIdp, "frank@example.com");
    await signIn(laptop, laptopIdp, "frank@example.com");
    const before = delivered.length;
    const { startedAt } = await signOutAtProvider(phoneIdp);
    assert.equal(delivered.length, before + 1, "one logout token delivered");
    const delivery = delivered.at(-1)!;
    assert.equal(delivery.status, 200);
    t.diagnostic(`provider logout -> app session ended: ${(delivery.answeredAt - startedAt).toFixed(1)} ms (the provider waits for the app's answer before redirecting the browser)`);

    assert.equal(await live(phone), false, "the phone's session is gone on its next request");
    assert.equal(await live(laptop), true, "another provider session of the same user is untouched");
    const userId = (await sessionRow(laptop)).userId;
    const ended = await h.kit.sessions.listEnded(userId);
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.endedBy, "provider");
    assert.match(ended[0]!.providerSid ?? "", /^.{10,}$/);
  });

  test("an admin ending a user's sessions at the provider ends all of their app sessions", async () => {
    const [a, b, other] = [h.browser(), h.browser(), h.browser()];
    await signIn(a, new CookieJar(), "gina@example.com");
    await signIn(b, new CookieJar(), "gina+ttl600@example.com");
    await signIn(other, new CookieJar(), "hal@example.com");
    const response = await fetch(`${h.provider.issuer}/__dev/end-sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ login: "gina@example.com" }) });
    assert.deepEqual(await response.json(), { sessions: 2, notified: 2, failed: 0 });
    assert.equal(await live(a), false);
    assert.equal(await live(b), false);
    assert.equal(await live(other), true);
  });
});

describe("logout tokens the app refuses", () => {
  let key: CryptoKey;
  let forged: BackchannelLogoutHandler;
  const jwks: { keys: Array<Record<string, unknown>> } = { keys: [] };

  before(async () => {
    const pair = await generateKeyPair("RS256");
    key = pair.privateKey;
    jwks.keys.push({ ...(await exportJWK(pair.publicKey)), kid: "test-key", alg: "RS256" });
    // The same handler, trusting a key this test holds, so each claim rule can be tried on a
    // validly signed token. (The provider's own keys never leave it.)
    forged = backchannelLogout({ kit: h.kit, issuer: h.provider.issuer, clientId: h.env.AUTH_OIDC_ID!, replay: prismaReplayStore(h.prisma), keys: createLocalJWKSet(jwks as never) });
  });

  function claims(over: Record<string, unknown> = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    const base: Record<string, unknown> = { iss: h.provider.issuer, aud: h.env.AUTH_OIDC_ID, iat: now, exp: now + 120, jti: randomUUID(), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...over };
    for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name];
    return base as JWTPayload;
  }
  const sign = (payload: JWTPayload, header: Record<string, unknown> = {}) => new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "logout+jwt", kid: "test-key", ...header }).sign(key);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

  async function post(to: BackchannelLogoutHandler, body: string, contentType = "application/x-www-form-urlencoded") {
    const response = await to.POST(new Request(`${APP_URL}/api/auth/backchannel-logout`, { method: "POST", headers: { "content-type": contentType }, body }));
    const text = await response.text();
    return { status: response.status, cacheControl: response.headers.get("cache-control"), code: text ? (JSON.parse(text) as { error_description: string }).error_description.split(":")[0] : null, error: text ? (JSON.parse(text) as { error: string }).error : null };
  }
  const form = (token: string) => new URLSearchParams({ logout_token: token }).toString();

  test("each malformed, unsigned, foreign, stale or id_token-like token gets 400 with its code, and no session ends", async () => {
    const b = h.browser();
    await signIn(b, new CookieJar(), "ivy@example.com");
    const row = await sessionRow(b);
    const target = { sid: row.idpSid!, sub: row.idpSubject! };
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, string, string, BackchannelLogoutHandler?, string?]> = [
      ["no logout_token", "", "missing_token"],
      ["a JSON body", JSON.stringify({ logout_token: await sign(claims(target)) }), "missing_token", forged, "application/json"],
      ["two logout_tokens", `${form(await sign(claims(target)))}&${form(await sign(claims(target)))}`, "missing_token"],
      ["not a JWT", form("not-a-jwt"), "malformed_token"],
      ["unsigned (alg none)", form(`${b64({ alg: "none", typ: "logout+jwt" })}.${b64(claims(target))}.`), "unsupported_alg"],
      ["HMAC-signed with a guessable secret", form(await new SignJWT(claims(target)).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("x".repeat(32)))), "unsupported_alg"],
      ["signed by a key that is not the provider's", form(await sign(claims(target))), "invalid_signature", handler],
      ["a signature that does not match the payload", form(`${(await sign(claims(target))).split(".").slice(0, 2).join(".")}.${(await sign(claims(target))).split(".")[2]}`), "invalid_signature"],
      ["another issuer", form(await sign(claims({ ...target, iss: "https://evil.example" }))), "invalid_issuer"],
      ["another audience", form(await sign(claims({ ...target, aud: "some-other-client" }))), "invalid_audience"],
      ["expired", form(await sign(claims({ ...target, iat: now - 200, exp: now - 60 }))), "expired"],
      ["issued too long ago", form(await sign(claims({ ...target, iat: now - 3600, exp: now + 60 }))), "invalid_iat"],
      ["issued in the future", form(await sign(claims({ ...target, iat: now + 3600, exp: now + 7200 }))), "invalid_iat"],
      ["without iat", form(await sign(claims({ ...target, iat: undefined }))), "invalid_iat"],
      ["without jti", form(await sign(claims({ ...target, jti: undefined }))), "missing_jti"],
      ["without the logout event", form(await sign(claims({ ...target, events: undefined }))), "invalid_events"],
      ["with another event", form(await sign(claims({ ...target, events: { "http://schemas.openid.net/event/other": {} } }))), "invalid_events"],
      ["with a nonce (an id_token)", form(await sign(claims({ ...target, nonce: "n-0S6_WzA2Mj" }))), "nonce_present"],
      ["naming neither sid nor sub", form(await sign(claims())), "missing_subject"],
      ["typed as an access token", form(await sign(claims(target), { typ: "at+jwt" })), "invalid_typ"],
    ];
    for (const [name, body, code, to = forged, contentType] of cases) {
      const answer = await post(to, body, contentType);
      assert.deepEqual({ name, status: answer.status, error: answer.error, code: answer.code }, { name, status: 400, error: "invalid_request", code });
      assert.equal(answer.cacheControl, "no-store", name);
    }
    assert.equal(await live(b), true, "no refused token ended the session");
    assert.equal((await h.prisma.userSession.findUniqueOrThrow({ where: { id: row.id } })).revokedAt, null);
  });

  test("a token naming only sub ends every session of that subject; its replay, to this or another instance, changes nothing", async () => {
    const [a, b] = [h.browser(), h.browser()];
    await signIn(a, new CookieJar(), "jack@example.com");
    await signIn(b, new CookieJar(), "jack@example.com");
    const token = await sign(claims({ sub: "jack@example.com" }));
    const first = await post(forged, form(token));
    assert.deepEqual([first.status, first.cacheControl], [200, "no-store"]);
    assert.equal(await live(a), false);
    assert.equal(await live(b), false);

    const again = h.browser();
    await signIn(again, new CookieJar(), "jack@example.com");
    assert.equal((await post(forged, form(token))).code, "replayed");
    // Another instance of the app: its own memory, the same database.
    const otherInstance = backchannelLogout({ kit: h.kit, issuer: h.provider.issuer, clientId: h.env.AUTH_OIDC_ID!, replay: prismaReplayStore(h.prisma), keys: createLocalJWKSet(jwks as never) });
    assert.equal((await post(otherInstance, form(token))).code, "replayed");
    assert.equal(await live(again), true, "the replay did not end the new session");
  });

  // Security round 3 (#22, item 4): provider ids over 255 characters were cut when stored and
  // compared whole when revoking, so those sessions never ended by back-channel logout (200, ended 0).
  test("a session whose provider sid and sub are 300 characters long ends by back-channel logout (sid, sub, both)", async () => {
    const user = await h.prisma.user.findUniqueOrThrow({ where: { email: "dave@example.com" } });
    /** A sign-in as the kit sees it (Auth.js's jwt() at sign-in), with the provider's id_token claims as the profile. */
    async function signInWith(sub: string, sid: string) {
      const token = await h.kit.callbacks.jwt({
        token: { sub: user.id, email: user.email, name: user.name },
        user: { id: user.id, email: user.email },
        account: { provider: "oidc", type: "oidc", providerAccountId: sub },
        profile: { iss: h.provider.issuer, sub, sid, email: user.email, email_verified: true },
        trigger: "signIn",
      });
      assert.ok(token && (await h.internals.isActive(token)), "signed in");
      return token;
    }
    const long = (tag: string) => `${tag}-${"x".repeat(300 - tag.length - 1)}`;
    const cases: Array<[string, Record<string, string>]> = [
      ["sid", { sid: long("sid-1") }],
      ["sub", { sub: long("sub-2") }],
      ["sid and sub", { sid: long("sid-3"), sub: long("sub-3") }],
    ];
    for (const [name, logout] of cases) {
      const sub = logout.sub ?? long(`sub-of-${name}`);
      const token = await signInWith(sub, logout.sid ?? long(`sid-of-${name}`));
      // Another session of the same provider subject and a neighbour whose ids share the first 255 characters.
      const neighbour = await signInWith(`${sub.slice(0, 299)}y`, `${(logout.sid ?? long(`sid-of-${name}`)).slice(0, 299)}y`);
      assert.equal(sub.length, 300);
      const answer = await post(forged, form(await sign(claims(logout))));
      assert.equal(answer.status, 200, name);
      assert.equal(await h.internals.isActive(token), false, `${name}: the session with 300-character provider ids ended`);
      assert.equal(await h.internals.isActive(neighbour), true, `${name}: ids that differ only after character 255 are other sessions`);
      const row = await h.prisma.userSession.findUniqueOrThrow({ where: { id: h.internals.sessionId(token as never)! } });
      assert.equal(row.endedBy, "provider", name);
    }
  });

  test("the provider's own token, delivered again, is refused as a replay", async () => {
    const b = h.browser();
    const idp = new CookieJar();
    await signIn(b, idp, "kim@example.com");
    await signOutAtProvider(idp);
    const real = delivered.at(-1)!;
    assert.equal(real.status, 200);
    const answer = await post(handler, form(real.token));
    assert.deepEqual([answer.status, answer.code], [400, "replayed"]);
  });
});

// Security round 3 (#22, item 1): "Sign out" sends the browser to the provider's end-session URL.
// It read the cookie's token without asking the registry, so the cookie of a session that had
// already ended (signed out everywhere from another device, revoked by an admin or the provider)
// still received the account's newest id_token from the vault as id_token_hint.
describe("signing out at the provider with the cookie of an ended session", () => {
  const POST_LOGOUT = `${APP_URL}/`;
  /** What app/actions.ts's signOutAction decides, for one browser's cookie. */
  const signOutUrl = (b: Browser) =>
    providerSignOutUrl(
      {
        readToken: () => b.token(),
        sessionActive: async () => {
          const token = await b.token();
          return token !== null && (await h.internals.isActive(token as never));
        },
        endSessionUrl: (token, uri) => h.oauth.endSessionUrl(token, uri),
      },
      POST_LOGOUT,
    ).then((url) => new URL(url!));

  test("after sign-out everywhere from another device, the old cookie gets client_id and no id_token_hint", async () => {
    const [phone, laptop] = [h.browser(), h.browser()];
    await signIn(phone, new CookieJar(), "lou@example.com");
    await signIn(laptop, new CookieJar(), "lou@example.com");
    const userId = (await sessionRow(laptop)).userId;
    const idToken = (await h.prisma.account.findFirstOrThrow({ where: { userId, provider: "oidc" } })).id_token!;

    // A live session signs out with its hint (the provider ends its session without asking).
    const live = await signOutUrl(phone);
    assert.equal(live.searchParams.get("id_token_hint"), idToken);

    // The laptop signs out every other session ("Sign out all other sessions").
    await h.kit.sessions.revokeAll(userId, { except: (await sessionRow(laptop)).id, by: "user" });
    // The phone has made no request since (or its cookie was copied): it still holds the cookie.
    assert.equal(await h.internals.isActive((await phone.token()) as never), false, "the phone's session has ended");
    const ended = await signOutUrl(phone);
    assert.equal(ended.searchParams.get("id_token_hint"), null, "the ended session's cookie was handed the account's id_token");
    assert.equal(ended.searchParams.get("client_id"), h.env.AUTH_OIDC_ID);
    assert.equal(ended.searchParams.get("post_logout_redirect_uri"), POST_LOGOUT);
    assert.equal(ended.origin + ended.pathname, live.origin + live.pathname, "the same end-session endpoint");
    assert.ok(!ended.toString().includes(idToken));
  });
});
