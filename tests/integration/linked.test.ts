// Linked accounts (issue #13, item 5): a user signed in with two providers has two token sets; each
// is found by provider, refreshed on its own, and listed without token values. Linking needs an
// active session: a signed-out cookie links nothing.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fakeClock, startHarness, type Harness } from "./harness";

const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now });
});
after(() => h.close());

describe("two providers, two token sets", () => {
  test("linking a second provider while signed in keeps both; each refreshes independently", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    await b.signIn("alice@example.com", "work");
    const alice = await h.prisma.user.findFirstOrThrow({ where: { email: "alice@example.com" }, select: { id: true, accounts: { select: { provider: true } } } });
    assert.deepEqual(alice.accounts.map((a) => a.provider).sort(), ["oidc", "work"]);

    const token = await b.token();
    const listed = await h.oauth.accounts(token);
    assert.deepEqual(listed.map((a) => [a.provider, a.hasRefreshToken, a.error]).sort(), [["oidc", true, null], ["work", true, null]]);
    assert.ok(!JSON.stringify(listed).includes("refreshToken\":\""), "no token values");

    const oidc = await h.oauth.forProvider("oidc").accessToken(token);
    const work = await h.oauth.forProvider("work").accessToken(token);
    assert.ok(oidc && work && oidc.accessToken !== work.accessToken, "two token sets");

    // Only the work grant's access token is expired: only it is refreshed.
    h.provider.reset();
    const row = await h.prisma.account.findFirstOrThrow({ where: { provider: "work", userId: alice.id } });
    await h.prisma.account.update({ where: { id: row.id }, data: { expires_at: Math.floor(clock.now() / 1000) - 1 } });
    const refreshed = await h.oauth.forProvider("work").accessToken(token);
    assert.ok(refreshed && refreshed.accessToken !== work.accessToken && refreshed.refreshCount === 1);
    assert.equal(h.provider.stats().refreshGrants, 1);
    const stillOidc = await h.oauth.forProvider("oidc").accessToken(token);
    assert.equal(stillOidc?.accessToken, oidc.accessToken, "the other provider's tokens are untouched");
    assert.equal(h.provider.stats().refreshGrants, 1);
  });

  test("a signed-out session's cookie cannot link a provider identity to its user", async () => {
    const b = h.browser();
    await b.signIn("bob@example.com");
    const stolen = b.jar.header();
    const csrfToken = await b.csrf();
    await b.fetch("/api/auth/signout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken }) });

    const thief = h.browser();
    for (const part of stolen.split("; ")) thief.jar.set(part.slice(0, part.indexOf("=")), part.slice(part.indexOf("=") + 1));
    await assert.rejects(thief.signIn("bob@example.com", "work"), /callback failed/);
    const bob = await h.prisma.user.findFirstOrThrow({ where: { email: "bob@example.com" }, select: { accounts: { select: { provider: true } } } });
    assert.deepEqual(bob.accounts.map((a) => a.provider), ["oidc"], "nothing linked");
  });
});
