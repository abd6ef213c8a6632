import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { fakeClock, startHarness, type Harness } from "./harness";

const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now, tokenMode: "cookie" });
});
after(async () => {
  await h.close();
});
beforeEach(() => clock.reset());

type CookieClaim = { at: string; rt?: string; e: number; i: number; it?: string; s?: { c: string; t: number }; b?: { n: number; r: number; c: string } };

describe("OAuth refresh in cookie mode (no vault)", () => {
  test("the tokens ride in the encrypted token, never in the session; no id_token unless asked", async () => {
    const b = h.browser();
    await b.signIn("cookie@example.com");
    const claim = (await b.token())?.oauth as CookieClaim;
    assert.ok(claim.at && claim.rt);
    assert.equal(claim.it, undefined);
    assert.equal(JSON.stringify(await b.session()).includes(claim.at), false);
  });

  test("50 concurrent reads at expiry: one refresh call, every response carries the new tokens", async () => {
    const b = h.browser();
    await b.signIn("cookie-burst@example.com");
    const before = (await b.token())?.oauth as CookieClaim;
    clock.advance(3600);
    h.provider.reset();
    const sessions = await Promise.all([...Array(50)].map(() => b.session<AppSession>()));
    assert.equal(h.provider.stats().refreshGrants, 1);
    assert.equal(h.provider.stats().reuseDetected, 0);
    assert.ok(sessions.every((s) => s?.user.email === "cookie-burst@example.com" && !s.errors));
    const after = (await b.token())?.oauth as CookieClaim;
    assert.notEqual(after.rt, before.rt);
  });

  test("a transient fault keeps the last good refresh token in the cookie, with the back-off; the first request after it recovers", async () => {
    const b = h.browser();
    await b.signIn("cookie-fault@example.com");
    const before = (await b.token())?.oauth as CookieClaim;
    clock.advance(3600);
    await h.fault("500");
    h.provider.reset();
    const failed = await b.session<AppSession>();
    assert.equal(failed?.errors?.oauth, "server_error");
    const claim = (await b.token())?.oauth as CookieClaim;
    assert.equal(claim.rt, before.rt);
    assert.deepEqual(claim.b, { n: 1, r: Math.floor(clock.now() / 1000) + 1, c: "server_error" }, "the back-off rides in the cookie");
    assert.equal((await b.session<AppSession>())?.errors?.oauth, "server_error", "within the back-off");
    assert.equal(h.provider.stats().faultsInjected + h.provider.stats().refreshGrants, 1, "no call within the back-off");
    clock.advance(1);
    const recovered = await b.session<AppSession>();
    assert.equal(recovered?.errors, undefined);
    assert.notEqual(((await b.token())?.oauth as CookieClaim).rt, before.rt);
  });

  test("a terminal error stops the claim: not due any more, no provider call, the code stays in session.errors", async () => {
    const b = h.browser();
    await b.signIn("cookie-stopped@example.com");
    clock.advance(3600);
    await h.fault("invalid_grant");
    const first = await b.session<AppSession>();
    assert.equal(first?.errors?.oauth, "invalid_grant");
    const now = Math.floor(clock.now() / 1000);
    assert.deepEqual(((await b.token())?.oauth as CookieClaim).s, { c: "invalid_grant", t: now });
    assert.equal(h.oauth.isDue(await b.token(), now + 86_400), false, "the proxy no longer calls the session endpoint for it");
    h.provider.reset();
    const second = await b.session<AppSession>();
    assert.equal(second?.user.email, "cookie-stopped@example.com");
    assert.equal(second?.errors?.oauth, "invalid_grant", "what the reauth hook reads");
    assert.equal(h.provider.stats().tokenRequests, 0);
  });
});
