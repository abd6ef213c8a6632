// What the Shared Signals receiver refuses, and what it bounds: forged, unsigned, retyped,
// misaddressed, expired and replayed SETs (to this instance or another), subjects of other users
// and other providers, key-fetch floods, oversized bodies; then poll delivery and verification.
// Every refusal is checked to change nothing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from "jose";
import { BACKCHANNEL_LOGOUT_EVENT, backchannelLogout, SECURITY_EVENT_TYPES, sharedSignals } from "../../lib/claims-kit/oidc";
import { memorySecurityEventLog, type ReplayStore } from "../../lib/claims-kit/plugin";
import { prismaReplayStore, prismaSecurityEventLog } from "../../lib/claims-kit/prisma";
import { CookieJar } from "../../scripts/oidc/dev-login";
import { APP_URL, startHarness, type Harness } from "./harness";
import { startTestTransmitter, type TestTransmitter } from "./ssf-transmitter";

type Browser = ReturnType<Harness["browser"]>;
const PUSH_TOKEN = "ssf-attacks-push-token-0123456789abc";

let h: Harness;
let tx: TestTransmitter;
before(async () => {
  tx = await startTestTransmitter({ audience: APP_URL, pollToken: "poll-token" });
  h = await startHarness({ backchannelLogoutUri: "http://127.0.0.1:9/unused", env: { AUTH_SSF_ISSUER: tx.issuer, AUTH_SSF_AUDIENCE: APP_URL, AUTH_SSF_PUSH_TOKEN: PUSH_TOKEN } });
});
after(async () => {
  await h.close();
  await tx.close();
});

type Answer = { status: number; err?: string; code?: string; cacheControl: string | null };
async function post(to: { POST(r: Request): Promise<Response> }, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await to.POST(new Request(`${APP_URL}/api/auth/ssf/events`, { method: "POST", headers: { "content-type": "application/secevent+jwt", authorization: `Bearer ${PUSH_TOKEN}`, ...headers }, body }));
  const text = await response.text();
  const parsed = text ? (JSON.parse(text) as { err: string; description: string }) : undefined;
  return { status: response.status, ...(parsed ? { err: parsed.err, code: parsed.description.split(":")[0] } : {}), cacheControl: response.headers.get("cache-control") };
}
const push = (body: string, headers?: Record<string, string>) => post(h.app.ssf!, body, headers);

async function signIn(login: string): Promise<{ b: Browser; r: Awaited<ReturnType<typeof h.prisma.userSession.findUniqueOrThrow>> }> {
  const b = h.browser();
  await b.signIn(login, "oidc", { login: { jar: new CookieJar() } });
  const r = await h.prisma.userSession.findUniqueOrThrow({ where: { id: h.internals.sessionId((await b.token()) as never)! } });
  return { b, r };
}
const live = async (b: Browser) => (await b.session()) !== null;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("SETs the receiver refuses", () => {
  test("forged, unsigned, retyped, misaddressed, expired and malformed SETs get their RFC 8935 error and code, and no session ends", async () => {
    const { b, r } = await signIn("uma@example.com");
    const target = { format: "complex", user: { format: "iss_sub", iss: r.idpIssuer, sub: r.idpSubject }, session: { format: "opaque", id: r.idpSid } };
    const revoke = (over: Record<string, unknown> = {}) => tx.claims("session-revoked", target, {}, over);
    const now = Math.floor(Date.now() / 1000);
    const stranger = await generateKeyPair("ES256");
    const hmac = new TextEncoder().encode("k".repeat(32));
    const cases: Array<[string, string, number, string, string, Record<string, string>?]> = [
      ["no bearer token", await tx.sign(revoke()), 400, "authentication_failed", "authentication_failed", { authorization: "" }],
      ["another bearer token", await tx.sign(revoke()), 400, "authentication_failed", "authentication_failed", { authorization: "Bearer ssf-attacks-push-token-0123456789abd" }],
      ["a form body", `logout_token=${await tx.sign(revoke())}`, 400, "invalid_request", "missing_token", { "content-type": "application/x-www-form-urlencoded" }],
      ["an empty body", "", 400, "invalid_request", "missing_token"],
      ["not a JWT", "not.a-jwt", 400, "invalid_request", "malformed_token"],
      ["unsigned (alg none)", `${b64({ alg: "none", typ: "secevent+jwt" })}.${b64(revoke())}.`, 400, "invalid_key", "unsupported_alg"],
      ["HMAC-signed (alg confusion)", await new SignJWT(revoke()).setProtectedHeader({ alg: "HS256", typ: "secevent+jwt", kid: "tx-1" }).sign(hmac), 400, "invalid_key", "unsupported_alg"],
      ["signed by a stranger's key with the transmitter's kid", await new SignJWT(revoke()).setProtectedHeader({ alg: "ES256", typ: "secevent+jwt", kid: "tx-1" }).sign(stranger.privateKey), 400, "invalid_key", "invalid_signature"],
      ["an embedded jwk (key injection)", await new SignJWT(revoke()).setProtectedHeader({ alg: "ES256", typ: "secevent+jwt", jwk: await exportJWK(stranger.publicKey) }).sign(stranger.privateKey), 400, "invalid_key", "invalid_signature"],
      ["typ JWT", await tx.sign(revoke(), { typ: "JWT" }), 400, "invalid_request", "invalid_typ"],
      ["a logout token's typ", await tx.sign(revoke(), { typ: "logout+jwt" }), 400, "invalid_request", "invalid_typ"],
      ["another issuer", await tx.sign(revoke({ iss: "https://evil.example" })), 400, "invalid_issuer", "invalid_issuer"],
      ["addressed to another receiver", await tx.sign(revoke({ aud: "https://other-app.example" })), 400, "invalid_audience", "invalid_audience"],
      ["without aud", await tx.sign(revoke({ aud: undefined })), 400, "invalid_audience", "invalid_audience"],
      ["expired (issued 10 minutes ago)", await tx.sign(revoke({ iat: now - 600 })), 400, "invalid_request", "expired"],
      ["issued in the future", await tx.sign(revoke({ iat: now + 600 })), 400, "invalid_request", "invalid_iat"],
      ["without iat", await tx.sign(revoke({ iat: undefined })), 400, "invalid_request", "invalid_iat"],
      ["without jti", await tx.sign(revoke({ jti: undefined })), 400, "invalid_request", "missing_jti"],
      ["with sub (an id_token)", await tx.sign(revoke({ sub: r.idpSubject })), 400, "invalid_request", "forbidden_claim"],
      ["with exp", await tx.sign(revoke({ exp: now + 60 })), 400, "invalid_request", "forbidden_claim"],
      ["with a past exp", await tx.sign(revoke({ exp: now - 60 })), 400, "invalid_request", "forbidden_claim"],
      ["without sub_id", await tx.sign(revoke({ sub_id: undefined })), 400, "invalid_request", "invalid_subject"],
      ["an event subject that differs from sub_id", await tx.sign(tx.claims("session-revoked", target, { subject: { format: "email", email: "uma@example.com" } })), 400, "invalid_request", "invalid_subject"],
      ["a back-channel logout token, as the provider signs it", await tx.sign({ iss: tx.issuer, aud: APP_URL, iat: now, jti: "bcl-1", sid: r.idpSid, sub: r.idpSubject!, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }, { typ: "logout+jwt" }), 400, "invalid_request", "invalid_typ"],
      ["a back-channel logout token retyped as a SET", await tx.sign({ iss: tx.issuer, aud: APP_URL, iat: now, jti: "bcl-2", sid: r.idpSid, sub: r.idpSubject!, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }), 400, "invalid_request", "forbidden_claim"],
      ["no events", await tx.sign(revoke({ events: {} })), 400, "invalid_request", "invalid_events"],
      ["a payload that breaks its event's definition", await tx.event("credential-change", target, { change_type: "melt" }), 400, "invalid_request", "invalid_events"],
      ["a verification nobody asked for", await tx.event("verification", { format: "opaque", id: "s-1" }, { state: "guessed" }), 400, "invalid_state", "invalid_state"],
    ];
    for (const [name, body, status, err, code, headers] of cases) {
      const answer = await push(body, headers);
      assert.deepEqual({ name, status: answer.status, err: answer.err, code: answer.code, cacheControl: answer.cacheControl }, { name, status, err, code, cacheControl: "no-store" });
    }
    assert.equal(await live(b), true, "no refused SET ended the session");
    assert.deepEqual(await h.app.ssfEvents.list(r.userId), [], "nothing recorded");
    // The scheme's case is free (RFC 9110): the right token with "bearer" is accepted.
    assert.equal((await push(await tx.sign(revoke()), { authorization: `bearer ${PUSH_TOKEN}` })).status, 202);
    assert.equal(await live(b), false);
  });

  test("a body over 64 KB is refused with 413 before it is read", async () => {
    const answer = await push(`${"a".repeat(70 * 1024)}.b.c`);
    assert.deepEqual([answer.status, answer.err, answer.code], [413, "invalid_request", "body_too_large"]);
  });

  test("a SET is taken once: its replay, to this instance or to another sharing the database, is refused and changes nothing", async () => {
    const { r } = await signIn("vic@example.com");
    const token = await tx.event("credential-change", { format: "iss_sub", iss: r.idpIssuer, sub: r.idpSubject }, { credential_type: "password", change_type: "update" });
    assert.equal((await push(token)).status, 202);
    const { b: again } = await signIn("vic@example.com");
    assert.deepEqual([(await push(token)).code], ["replayed"]);
    const otherInstance = sharedSignals({ kit: h.kit, issuer: tx.issuer, audience: APP_URL, replay: prismaReplayStore(h.prisma), events: prismaSecurityEventLog(h.prisma) });
    const concurrent = await Promise.all([post(otherInstance, token), post(otherInstance, token)]);
    assert.deepEqual(concurrent.map((a) => a.code), ["replayed", "replayed"]);
    assert.equal(await live(again), true, "the replays did not end the new session");
  });
});

describe("subjects of other users and other providers", () => {
  test("an iss_sub of another issuer, a sid that is another user's sub, and a session named with another user end nothing", async () => {
    const { b: wes, r: w } = await signIn("wes@example.com");
    const { b: xena, r: x } = await signIn("xena@example.com");
    const sent = [
      // The same subject at a provider the transmitter does not speak for.
      await tx.event("session-revoked", { format: "iss_sub", iss: "https://other-idp.example", sub: w.idpSubject }),
      // Wes's provider subject given as a session id: a sid is never matched against subjects.
      await tx.event("session-revoked", { format: "opaque", id: w.idpSubject }),
      // Xena's session, but naming Wes as its user: the pair matches no session.
      await tx.event("session-revoked", { format: "complex", user: { format: "iss_sub", iss: w.idpIssuer, sub: w.idpSubject }, session: { format: "opaque", id: x.idpSid } }),
      // Xena's session with Wes's verified address as its user.
      await tx.event("session-revoked", { format: "complex", user: { format: "email", email: "wes@example.com" }, session: { format: "opaque", id: x.idpSid } }),
    ];
    for (const token of sent) assert.equal((await push(token)).status, 202);
    assert.deepEqual([await live(wes), await live(xena)], [true, true]);
  });

  test("a complex subject with a critical member the receiver cannot process is refused (SSF 1.0, critical_subject_members)", async () => {
    const { b, r } = await signIn("yara@example.com");
    tx.state.metadata = { critical_subject_members: ["tenant"] };
    // A fresh receiver reads the metadata anew.
    const fresh = sharedSignals({ kit: h.kit, issuer: tx.issuer, audience: APP_URL, replay: prismaReplayStore(h.prisma), events: memorySecurityEventLog() });
    const answer = await post(fresh, await tx.event("session-revoked", { format: "complex", user: { format: "iss_sub", iss: r.idpIssuer, sub: r.idpSubject }, tenant: { format: "opaque", id: "t-1" } }));
    tx.state.metadata = {};
    assert.deepEqual([answer.status, answer.code], [400, "invalid_subject"]);
    assert.equal(await live(b), true);
  });
});

describe("the transmitter's keys under load", () => {
  test("tokens with unknown kids and a transmitter outage cost a bounded number of requests; refused meanwhile with 503", async () => {
    const fresh = () => sharedSignals({ kit: h.kit, issuer: tx.issuer, audience: APP_URL, replay: prismaReplayStore(h.prisma), events: memorySecurityEventLog() });
    const receiver = fresh();
    const stranger = await generateKeyPair("ES256");
    const before = { ...tx.counts };
    const answers = await Promise.all(Array.from({ length: 30 }, async (_, i) => post(receiver, await new SignJWT(tx.claims("session-revoked", { format: "opaque", id: "x" })).setProtectedHeader({ alg: "ES256", typ: "secevent+jwt", kid: `random-${i}` }).sign(stranger.privateKey))));
    assert.ok(answers.every((a) => a.code === "invalid_signature"), JSON.stringify(answers.map((a) => a.code)));
    assert.ok(tx.counts.metadata - before.metadata === 1 && tx.counts.jwks - before.jwks <= 2, `30 unknown kids made ${tx.counts.metadata - before.metadata} metadata and ${tx.counts.jwks - before.jwks} JWKS requests`);

    tx.state.down = true;
    const outage = fresh();
    const during = { ...tx.counts };
    const refused = [];
    for (let i = 0; i < 5; i++) refused.push(await post(outage, await tx.event("session-revoked", { format: "opaque", id: "x" })));
    tx.state.down = false;
    assert.deepEqual(refused.map((a) => [a.status, a.err, a.code]), Array(5).fill([503, "temporarily_unavailable", "transmitter_unavailable"]));
    assert.equal(tx.counts.metadata - during.metadata, 1, "one metadata request, then the cooldown");
  });
});

describe("poll delivery (RFC 8936) and verification", () => {
  test("a poll applies each SET, acknowledges the accepted ones and reports the refused ones in setErrs", async () => {
    const { b, r } = await signIn("zoe@example.com");
    const good = tx.claims("session-revoked", { format: "opaque", id: r.idpSid });
    const forged = tx.claims("session-revoked", { format: "opaque", id: "x" }, {}, { aud: "https://other-app.example" });
    tx.state.queue.set(good.jti!, await tx.sign(good));
    tx.state.queue.set(forged.jti!, await tx.sign(forged));
    const report = await h.app.ssf!.poll({ endpoint: `${tx.issuer}/poll`, authorization: "Bearer poll-token" });
    assert.deepEqual([report.received, report.acknowledged, report.refused, report.retried], [2, 1, 1, 0]);
    assert.equal(await live(b), false);
    const acked = tx.state.polls.at(-1)!;
    assert.deepEqual(acked.ack, [good.jti]);
    assert.equal(acked.setErrs![forged.jti!]!.err, "invalid_audience");
    assert.equal(tx.state.queue.size, 0);
    await assert.rejects(h.app.ssf!.poll({ endpoint: `${tx.issuer}/poll`, authorization: "Bearer wrong" }), { code: "poll_failed" });
  });

  test("verification: the receiver asks with a state, the event carrying it is accepted once, a replayed state is refused", async () => {
    const { state } = await h.app.ssf!.requestVerification({ streamId: "stream-1", authorization: "Bearer management" });
    assert.deepEqual(tx.state.verifications.at(-1), { stream_id: "stream-1", state });
    assert.equal((await push(await tx.event("verification", { format: "opaque", id: "stream-1" }, { state }))).status, 202);
    assert.equal((await push(await tx.event("verification", { format: "opaque", id: "stream-1" }, { state }))).code, "invalid_state");
  });
});

// Found by attacking the finished receiver (#27): each was a way to get a wrong answer out of it.
describe("attack findings", () => {
  const receiver = (over: Partial<Parameters<typeof sharedSignals>[0] & object> = {}) =>
    sharedSignals({ kit: h.kit, issuer: tx.issuer, audience: APP_URL, replay: prismaReplayStore(h.prisma), events: prismaSecurityEventLog(h.prisma), subjectIssuers: [h.issuer], ...over });

  test("attack: a fractional iat (a legal NumericDate) is accepted like any other, on SQLite and PostgreSQL (was a 500: an INTEGER column refused it)", async () => {
    const { b, r } = await signIn("abe@example.com");
    const iat = Date.now() / 1000 - 0.5;
    assert.equal((await push(await tx.event("session-revoked", { format: "opaque", id: r.idpSid }, {}, { iat }))).status, 202);
    assert.equal(await live(b), false);
    // Back-channel logout shares the replay store: the same for a logout token.
    const key = await generateKeyPair("RS256");
    const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(key.publicKey)), kid: "k", alg: "RS256" }] });
    const bcl = backchannelLogout({ kit: h.kit, issuer: h.issuer, clientId: h.env.AUTH_OIDC_ID!, replay: prismaReplayStore(h.prisma), keys });
    const logout = await new SignJWT({ iss: h.issuer, aud: h.env.AUTH_OIDC_ID, iat, jti: "fractional", sub: "nobody", events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }).setProtectedHeader({ alg: "RS256", kid: "k" }).sign(key.privateKey);
    assert.deepEqual(await bcl.receive(logout), { ok: true, revoked: 0, claims: { iss: h.issuer, jti: "fractional", iat: Math.floor(iat), sub: "nobody" } });
  });

  test("attack: a replay store that fails answers 503 with an RFC 8935 body and changes nothing (was a thrown 500)", async () => {
    const { b, r } = await signIn("bea@example.com");
    const broken: ReplayStore = { once: async () => { throw new Error("database is locked"); }, forget: async () => {} };
    const answer = await post(receiver({ replay: broken }), await tx.event("session-revoked", { format: "opaque", id: r.idpSid }));
    assert.deepEqual([answer.status, answer.err, answer.code], [503, "temporarily_unavailable", "effect_failed"]);
    assert.equal(await live(b), true);
  });

  test("attack: a replay to an instance whose clock is behind, after one whose clock is ahead swept the store, is refused (the store kept jtis only until the sweeper's clock said they had expired)", async () => {
    const { b, r } = await signIn("cal@example.com");
    const behind = receiver();
    const ahead = receiver({ clock: () => Date.now() + 60_000 });
    const token = await tx.event("credential-change", { format: "iss_sub", iss: r.idpIssuer, sub: r.idpSubject }, { credential_type: "password", change_type: "update" }, { iat: Math.floor(Date.now() / 1000) - 280 });
    assert.equal((await post(behind, token)).status, 202);
    const { b: again } = await signIn("cal@example.com");
    // Any SET the fast instance receives sweeps the store with its own clock.
    assert.equal((await post(ahead, await tx.event("session-established", { format: "opaque", id: "nobody" }))).status, 202);
    assert.deepEqual([(await post(behind, token)).code], ["replayed"]);
    assert.deepEqual([await live(b), await live(again)], [false, true]);
  });
});

// Round 2 (#27): a fresh attack on the receiver; each test failed before its fix.
describe("attack findings, round 2", () => {
  const receiver = (over: Partial<Parameters<typeof sharedSignals>[0] & object> = {}) =>
    sharedSignals({ kit: h.kit, issuer: tx.issuer, audience: APP_URL, replay: prismaReplayStore(h.prisma), events: prismaSecurityEventLog(h.prisma), subjectIssuers: [h.issuer], ...over });

  test("attack: a SET whose effect failed while the database was down is applied when the transmitter retries (was lost: its jti stayed taken, and every retry was refused as replayed)", async () => {
    const { b, r } = await signIn("dee@example.com");
    // The database goes away after the jti is taken: the effect fails, and so does forgetting the jti.
    let down = false;
    const store = prismaReplayStore(h.prisma);
    const replay: ReplayStore = {
      once: (key, expiresAt, now) => store.once(key, expiresAt, now),
      forget: async (key) => {
        if (down) throw new Error("connection refused");
        return store.forget(key);
      },
    };
    const fail = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
      if (down) throw new Error("connection refused");
      return f(...a);
    };
    const s = h.kit.sessions;
    const kit = { sessions: { revoke: fail(s.revoke), revokeAll: fail(s.revokeAll), revokeByProvider: fail(s.revokeByProvider), listByProvider: fail(s.listByProvider), reloadClaims: fail(s.reloadClaims) } };
    let t = Date.now();
    const rx = receiver({ kit, replay, clock: () => t });
    const token = await tx.event("session-revoked", { format: "opaque", id: r.idpSid });
    down = true;
    const first = await post(rx, token);
    assert.deepEqual([first.status, first.err], [503, "temporarily_unavailable"]);
    down = false;
    // The transmitter retries (Retry-After: 10) until the SET is accepted or refused for good.
    const answers: Answer[] = [];
    for (let i = 0; i < 6 && answers.at(-1)?.status !== 202; i++) {
      t += 10_000;
      answers.push(await post(rx, token));
    }
    assert.ok(answers.every((a) => a.status === 503 || a.status === 202), JSON.stringify(answers.map((a) => [a.status, a.code])));
    assert.equal(answers.at(-1)?.status, 202);
    assert.equal(await live(b), false, "the revoked session ended");
    // Once applied, it is a replay like any other.
    assert.deepEqual([(await post(rx, token)).code], ["replayed"]);
  });

  test("attack: a SET that joins a session revocation to a stream event is refused whole (was: the sessions ended, then the stream event's refusal answered 400, recorded nothing and left the SET replayable)", async () => {
    const { b, r } = await signIn("eli@example.com");
    const user = { format: "iss_sub", iss: r.idpIssuer, sub: r.idpSubject };
    const claims = tx.claims("credential-change", user, { credential_type: "password", change_type: "update" });
    (claims.events as Record<string, unknown>)[SECURITY_EVENT_TYPES["stream-updated"]] = { status: "enabled" };
    const token = await tx.sign(claims);
    for (let i = 0; i < 2; i++) assert.deepEqual(await push(token).then((a) => [a.status, a.code]), [400, "invalid_events"]);
    assert.equal(await live(b), true, "a refused SET changes nothing");
    assert.deepEqual(await h.app.ssfEvents.list(r.userId), []);
  });

  test("attack: a session named with another user as an opaque subject ends nothing (was: the user member was ignored and the session ended)", async () => {
    const { b: fay, r: f } = await signIn("fay@example.com");
    const { r: gus } = await signIn("gus@example.com");
    // Fay's provider session, but the user named (the provider subject, as an opaque id) is Gus.
    const token = await tx.event("session-revoked", { format: "complex", user: { format: "opaque", id: gus.idpSubject }, session: { format: "opaque", id: f.idpSid } });
    assert.equal((await push(token)).status, 202);
    assert.equal(await live(fay), true);
    // Naming Fay herself ends it.
    assert.equal((await push(await tx.event("session-revoked", { format: "complex", user: { format: "opaque", id: f.idpSubject }, session: { format: "opaque", id: f.idpSid } }))).status, 202);
    assert.equal(await live(fay), false);
  });
});
