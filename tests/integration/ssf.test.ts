// The Shared Signals receiver in the reference app's composition (createAuth with AUTH_SSF_*),
// against real sign-ins at the bundled provider: events built and signed by a transmitter the test
// controls (ssf-transmitter.ts), pushed to the app's handler as RFC 8935 says, and what each did
// to the sessions, the claims, the step-up and the event log. Refusals: ssf-attacks.test.ts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { checkRecentAuth } from "../../lib/claims-kit/oidc";
import { CookieJar } from "../../scripts/oidc/dev-login";
import { APP_URL, startHarness, type AppSession, type Harness } from "./harness";
import { startTestTransmitter, type TestTransmitter } from "./ssf-transmitter";

type Browser = ReturnType<Harness["browser"]>;
export const PUSH_TOKEN = "ssf-integration-push-token-0123456789";

let h: Harness;
let tx: TestTransmitter;

before(async () => {
  tx = await startTestTransmitter({ audience: APP_URL });
  // A back-channel logout URI makes the provider put `sid` in id_tokens (never called here).
  h = await startHarness({ backchannelLogoutUri: "http://127.0.0.1:9/unused", env: { AUTH_SSF_ISSUER: tx.issuer, AUTH_SSF_AUDIENCE: APP_URL, AUTH_SSF_PUSH_TOKEN: PUSH_TOKEN } });
});
after(async () => {
  await h.close();
  await tx.close();
});

/** Push a SET as a transmitter does (RFC 8935): the answer's status and RFC 8935 error, if any. */
async function push(token: string): Promise<{ status: number; err?: string; code?: string }> {
  const response = await h.app.ssf!.POST(new Request(`${APP_URL}/api/auth/ssf/events`, { method: "POST", headers: { "content-type": "application/secevent+jwt", accept: "application/json", authorization: `Bearer ${PUSH_TOKEN}` }, body: token }));
  const text = await response.text();
  if (!text) return { status: response.status };
  const body = JSON.parse(text) as { err: string; description: string };
  return { status: response.status, err: body.err, code: body.description.split(":")[0] };
}

async function signIn(login: string): Promise<Browser> {
  const b = h.browser();
  await b.signIn(login, "oidc", { login: { jar: new CookieJar() } });
  return b;
}
async function row(b: Browser) {
  const sid = h.internals.sessionId((await b.token()) as never)!;
  return h.prisma.userSession.findUniqueOrThrow({ where: { id: sid } });
}
const live = async (b: Browser) => (await b.session()) !== null;
const issSub = (r: { idpIssuer: string | null; idpSubject: string | null }) => ({ format: "iss_sub", iss: r.idpIssuer, sub: r.idpSubject });

describe("CAEP and RISC events from the transmitter", () => {
  test("session-revoked naming one provider session (complex user + session) ends that session on its next request, and no other", async (t) => {
    const [phone, laptop] = [await signIn("mia@example.com"), await signIn("mia@example.com")];
    const r = await row(phone);
    const token = await tx.event("session-revoked", { format: "complex", user: issSub(r), session: { format: "opaque", id: r.idpSid } }, { initiating_entity: "policy" });
    const started = performance.now();
    assert.deepEqual(await push(token), { status: 202 });
    const answered = performance.now();
    assert.equal(await live(phone), false, "the named session ended");
    t.diagnostic(`push -> session ended: ${(answered - started).toFixed(1)} ms (SET verified, jti stored, session revoked, event recorded, 202 answered)`);
    assert.equal(await live(laptop), true, "the user's other provider session stays");
    const [logged] = await h.app.ssfEvents.list(r.userId);
    assert.deepEqual({ type: logged!.type, outcome: logged!.outcome, sessions: logged!.sessions, detail: logged!.detail }, { type: "session-revoked", outcome: "sessions_ended", sessions: 1, detail: "complex(user:iss_sub,session:opaque)" });
    assert.equal((await h.prisma.userSession.findUniqueOrThrow({ where: { id: r.id } })).endedBy, "provider");
  });

  test("session-revoked with a top-level opaque session id ends that provider session; with iss_sub, every session of the subject", async (t) => {
    const [a, b, other] = [await signIn("noah@example.com"), await signIn("noah@example.com"), await signIn("olga@example.com")];
    const token = await tx.event("session-revoked", { format: "opaque", id: (await row(a)).idpSid });
    const started = performance.now();
    assert.equal((await push(token)).status, 202);
    t.diagnostic(`push -> session ended, keys cached: ${(performance.now() - started).toFixed(1)} ms`);
    assert.deepEqual([await live(a), await live(b)], [false, true]);
    assert.equal((await push(await tx.event("session-revoked", issSub(await row(b))))).status, 202);
    assert.deepEqual([await live(b), await live(other)], [false, true]);
  });

  test("credential-change ends every session of the user; RISC account-disabled by verified email signs the user out everywhere", async () => {
    const [a, b] = [await signIn("pia@example.com"), await signIn("pia+ttl600@example.com")];
    const r = await row(a);
    assert.equal((await push(await tx.event("credential-change", issSub(r), { credential_type: "password", change_type: "update" }))).status, 202);
    assert.deepEqual([await live(a), await live(b)], [false, false]);
    const [logged] = await h.app.ssfEvents.list(r.userId);
    assert.deepEqual([logged!.type, logged!.outcome, logged!.sessions], ["credential-change", "sessions_ended", 2]);

    // A seeded user (verified address), signed in twice; the address in another case still matches.
    const [c, d] = [await signIn("bob@example.com"), await signIn("bob@example.com")];
    assert.equal((await push(await tx.event("account-disabled", { format: "email", email: "Bob@Example.com" }, { reason: "hijacking" }))).status, 202);
    assert.deepEqual([await live(c), await live(d)], [false, false]);
  });

  test("an email subject reaches only a verified address: an unverified sign-in's user is not signed out", async () => {
    const b = await signIn("quinn+unverified@example.com");
    const r = await row(b);
    assert.equal((await h.prisma.user.findUniqueOrThrow({ where: { id: r.userId } })).emailVerified, null);
    assert.equal((await push(await tx.event("sessions-revoked", { format: "email", email: "quinn@example.com" }))).status, 202);
    assert.equal(await live(b), true);
    // The verified sign-in of the same address marks it: now it matches.
    const verified = await signIn("rita@example.com");
    assert.notEqual((await h.prisma.user.findUniqueOrThrow({ where: { id: (await row(verified)).userId } })).emailVerified, null);
    assert.equal((await push(await tx.event("sessions-revoked", { format: "email", email: "rita@example.com" }))).status, 202);
    assert.equal(await live(verified), false);
  });

  test("token-claims-change reloads the user's claims on every session at its next request", async () => {
    const [a, b] = [await signIn("carol@example.com"), await signIn("carol@example.com")];
    const userId = (await row(a)).userId;
    await h.prisma.user.update({ where: { id: userId }, data: { name: "Carol Renamed" } });
    assert.equal((await a.session<AppSession>())!.claims.displayName, "Carol Viewer", "claims are not re-read before CLAIMS_MAX_AGE");
    assert.equal((await push(await tx.event("token-claims-change", issSub(await row(a)), { claims: { name: "Carol Renamed" } }))).status, 202);
    for (const browser of [a, b]) assert.equal((await browser.session<AppSession>())!.claims.displayName, "Carol Renamed");
    assert.equal((await h.app.ssfEvents.list(userId))[0]!.outcome, "claims_reloaded");
  });

  test("assurance-level-change makes the next sensitive action step up (max_age=0, acr mfa), until a new sign-in", async () => {
    const b = await signIn("sam@example.com");
    const userId = (await row(b)).userId;
    const now = () => Math.floor(Date.now() / 1000);
    assert.equal(checkRecentAuth(await b.token(), { maxAge: 300 }, now(), await h.app.ssf!.stepUpRequirement(userId)).ok, true);
    const token = await tx.event("assurance-level-change", issSub(await row(b)), { namespace: "NIST-AAL", current_level: "nist-aal1", previous_level: "nist-aal2", change_direction: "decrease" }, { iat: now() + 1 });
    assert.equal((await push(token)).status, 202);
    const floor = await h.app.ssf!.stepUpRequirement(userId);
    assert.deepEqual(checkRecentAuth(await b.token(), { maxAge: 300 }, now(), floor), { ok: false, kind: "refused", code: "step_up_required", stepUp: { max_age: "0", acr_values: "mfa" } });
    assert.equal(await live(b), true, "the session itself goes on");
    // A sign-in authenticated after the change passes.
    assert.equal(checkRecentAuth({ sub: userId, auth_time: floor!.notBefore + 1 }, { maxAge: 300 }, now() + 2, floor).ok, true);
  });

  test("device-compliance-change calls the hook; an unknown event and the stream events are recorded and change nothing", async () => {
    const b = await signIn("tess@example.com");
    const r = await row(b);
    assert.equal((await push(await tx.event("device-compliance-change", { format: "complex", user: issSub(r), device: { format: "opaque", id: "d-1" } }, { previous_status: "compliant", current_status: "not-compliant" }))).status, 202);
    assert.equal((await push(await tx.event("https://example.com/events/made-up", issSub(r)))).status, 202);
    assert.equal((await push(await tx.event("stream-updated", { format: "opaque", id: "stream-1" }, { status: "paused" }))).status, 202);
    assert.equal((await push(await tx.event("verification", { format: "opaque", id: "stream-1" }))).status, 202);
    assert.equal(await live(b), true);
    const logged = await h.app.ssfEvents.list(r.userId);
    assert.deepEqual(logged.map((e) => [e.type, e.outcome, e.detail]).sort(), [
      ["device-compliance-change", "hook_called", "device not-compliant (was compliant)"],
      ["https://example.com/events/made-up", "logged", "iss_sub"],
    ]);
  });
});
