// The session registry on the request path (engine/freshness.ts): checkEvery, a failing or slow
// registry, revocation, the epoch, and a re-sign-in ending the previous session.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit } from "@/lib/claims-kit";
import { memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { fakeClock, jwt, memoryLogger, observedRegistry, signInParams } from "../fixtures";

type K = { sid: string; v?: number; l?: number; e?: Record<string, { code: string }>; u?: { i: string; n?: string; c?: string } };
const k = (token: JWT) => token._k as K;

describe("re-sign-in ends the previous session (review item 10)", () => {
  test("the session id of the token the browser already had is revoked when a new one is issued", async () => {
    const registry = memorySessionRegistry();
    let previous: JWT | null = null;
    const kit = claimsKit({ plugins: [p()], sessions: registry, requestInfo: () => ({ userAgent: "test", previousToken: previous }), logger: memoryLogger() });
    const first = await jwt(kit, signInParams());
    previous = first;
    const second = await jwt(kit, signInParams());
    assert.notEqual(k(second).sid, k(first).sid);
    assert.equal(await kit.callbacks.jwt({ token: first }), null, "the old cookie no longer works");
    assert.ok(await kit.callbacks.jwt({ token: second }));
  });
  function p() {
    return appClaims({ id: "p", claims: { a: claim.client<number>() }, load: () => ({ a: 1 }) });
  }
});

describe("a failing session registry (review: fail-open without a limit)", () => {
  const p = appClaims({ id: "p", claims: { a: claim.client<number>() }, load: () => ({ a: 1 }) });

  test("a revoked session is served for at most failOpenFor after its last good check, then ends", async () => {
    let now = Date.UTC(2026, 11, 1);
    const registry = observedRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, freshness: { failOpenFor: 60 }, clock: () => now, logger: memoryLogger() });
    let token = await jwt(kit, signInParams());
    await registry.revoke({ sid: k(token).sid }, now / 1000);
    registry.fail = true; // the database is down (or made to time out) right after the revocation
    now += 30_000;
    token = await jwt(kit, { token });
    assert.equal(k(token).e?.kit?.code, "plugin_failed", "served, with the failure recorded");
    now += 31_000;
    assert.equal(await kit.callbacks.jwt({ token }), null, "61 s since the last good check: ended");
  });

  test("a registry slower than checkTimeoutMs counts as failing", async () => {
    let now = Date.UTC(2026, 11, 1);
    const registry = observedRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, freshness: { failOpenFor: 0, checkTimeoutMs: 20 }, clock: () => now, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    registry.check = () => new Promise(() => {}); // never answers
    now += 1_000;
    assert.equal(await kit.callbacks.jwt({ token }), null);
  });

  test("a token without a session id is not accepted where there is a registry", async () => {
    const kit = claimsKit({ plugins: [p], sessions: memorySessionRegistry(), logger: memoryLogger() });
    assert.equal(await kit.callbacks.jwt({ token: { sub: "user-1", a: 1, _k: { l: 1 } } }), null);
  });
});

describe("session checks", () => {
  const p = appClaims({ id: "p", claims: { plan: claim.client<string>() }, load: () => ({ plan: "pro" }) });

  test("checkEvery spaces out registry reads", async () => {
    const clock = fakeClock();
    const registry = observedRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, freshness: { checkEvery: 10 }, clock: clock.now, logger: memoryLogger() });
    let token = await jwt(kit, signInParams());
    for (let i = 0; i < 5; i++) token = await jwt(kit, { token });
    assert.equal(registry.checks, 0, "inside the window");
    clock.advance(11);
    token = await jwt(kit, { token });
    assert.equal(registry.checks, 1);
  });

  test("a registry failure keeps the session (recorded), an unknown or revoked session ends it", async () => {
    const registry = observedRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    registry.fail = true;
    const kept = await jwt(kit, { token });
    assert.equal((kept._k as { e: Record<string, { code: string }> }).e.kit!.code, "plugin_failed");
    registry.fail = false;
    const sid = (token._k as { sid: string }).sid;
    await registry.revoke({ sid }, Date.now() / 1000);
    assert.equal(await kit.callbacks.jwt({ token }), null);
    // A registry that does not know the session (its row deleted, another database).
    const elsewhere = claimsKit({ plugins: [p], sessions: memorySessionRegistry(), logger: memoryLogger() });
    assert.equal(await elsewhere.callbacks.jwt({ token }), null);
  });

  test("an epoch change ends the session", async () => {
    const registry = memorySessionRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    await registry.bumpEpoch();
    assert.equal(await kit.callbacks.jwt({ token }), null);
  });

  test("a cookie last checked in this clock's future (another process's clock ahead, or this one stepped back) is checked, not waved through", async () => {
    // checkedAt later than now made `now - checkedAt < checkEvery` hold (checkEvery 0 included):
    // no registry check at all, a revoked session served until this clock caught up (a process an
    // hour ahead, or an NTP step back of an hour: an hour).
    let now = Date.UTC(2026, 11, 1);
    const registry = memorySessionRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, clock: () => now, logger: memoryLogger() });
    const ahead = await jwt(kit, signInParams()); // issued where the clock reads an hour later
    now -= 3_600_000;
    await registry.revoke({ sid: k(ahead).sid }, now / 1000);
    assert.equal(await kit.callbacks.jwt({ token: ahead }), null, "checked: revoked");
  });

  test("claims loaded in this clock's future are reloaded now, not an hour after their max age", async () => {
    let now = Date.UTC(2026, 11, 1);
    let plan = "pro";
    const loaded = appClaims({ id: "plan", claims: { plan: claim.client<string>() }, load: () => ({ plan }) });
    const kit = claimsKit({ plugins: [loaded], freshness: { maxAge: 60 }, clock: () => now, logger: memoryLogger() });
    const ahead = await jwt(kit, signInParams()); // loaded where the clock reads an hour later
    now -= 3_600_000;
    plan = "free"; // changed without a claims-version bump: the max age is the bound
    now += 61_000;
    assert.equal((await jwt(kit, { token: ahead })).plan, "free");
  });

  test("freshness options are checked at start-up", () => {
    assert.throws(() => claimsKit({ plugins: [p], freshness: { maxAge: -1 } }), /option "freshness.maxAge"/);
    assert.throws(() => claimsKit({ plugins: [p], freshness: { checkEvery: 5 } }), /option "sessions" is required/);
  });
});
