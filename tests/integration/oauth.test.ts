import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { AppSession } from "../../auth.config";
import { devRefreshTokenGrant } from "../../scripts/oidc/dev-login";
import { fakeClock, startHarness, type Harness } from "./harness";

const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now });
});
beforeEach(() => clock.reset());
after(async () => {
  await h.close();
});

async function account(email: string) {
  const user = await h.prisma.user.findUniqueOrThrow({ where: { email }, include: { accounts: true } });
  return user.accounts[0]!;
}

describe("OAuth refresh in vault mode, against the real provider", () => {
  test("sign-in stores the tokens in the vault and keeps only a reference in the cookie", async () => {
    const b = h.browser();
    await b.signIn("vault@example.com");
    const row = await account("vault@example.com");
    assert.ok(row.access_token && row.refresh_token);
    const token = await b.token();
    assert.deepEqual(Object.keys(token?.oauth as object).sort(), ["a", "e", "i", "p"]);
    const cookie = b.jar.get("authjs.session-token")!;
    const session = JSON.stringify(await b.session());
    for (const secret of [row.access_token!, row.refresh_token!]) {
      assert.equal(session.includes(secret), false, "no token in the session JSON");
      assert.equal(cookie.includes(secret), false);
    }
  });

  test("50 concurrent session reads at expiry make exactly one refresh call", async () => {
    const b = h.browser();
    await b.signIn("burst@example.com");
    const before = await account("burst@example.com");
    clock.advance(3600);
    h.provider.reset();
    const sessions = await Promise.all([...Array(50)].map(() => b.session<AppSession>()));
    const stats = h.provider.stats();
    assert.equal(stats.refreshGrants, 1);
    assert.equal(stats.refreshSuccess, 1);
    assert.equal(stats.reuseDetected, 0);
    for (const s of sessions) {
      assert.equal(s?.user.email, "burst@example.com");
      assert.equal(s?.errors, undefined);
    }
    const after = await account("burst@example.com");
    assert.notEqual(after.refresh_token, before.refresh_token, "rotated");
    assert.equal(after.refreshCount, 1);
    // A request still carrying the old expiry hint uses the vault's fresh tokens: no second call.
    await b.session();
    assert.equal(h.provider.stats().refreshGrants, 1);
  });

  for (const [mode, code] of [["500", "server_error"], ["timeout", "timeout"], ["drop", "network"], ["malformed", "server_error"]] as const) {
    test(`provider fault "${mode}": the session stays with error ${code}, keeps its refresh token, and recovers`, async () => {
      const email = `fault-${mode}@example.com`;
      const b = h.browser();
      await b.signIn(email);
      const before = await account(email);
      clock.advance(3600);
      await h.fault(mode);
      const failed = await b.session<AppSession>();
      assert.equal(failed?.user.email, email, "still signed in");
      assert.equal(failed?.errors?.oauth, code);
      const kept = await account(email);
      assert.equal(kept.refresh_token, before.refresh_token, "last good refresh token kept");
      assert.equal(kept.refreshError, null);
      assert.equal(kept.refreshLeaseOwner, null, "lease released");

      const recovered = await b.session<AppSession>();
      assert.equal(recovered?.errors, undefined);
      const after = await account(email);
      assert.notEqual(after.refresh_token, before.refresh_token);
      assert.equal(after.refreshCount, 1);
    });
  }

  test("invalid_grant is recorded once, not retried, and does not sign the user out", async () => {
    const b = h.browser();
    await b.signIn("revoked@example.com");
    clock.advance(3600);
    await h.fault("invalid_grant");
    h.provider.reset();
    const first = await b.session<AppSession>();
    assert.equal(first?.errors?.oauth, "invalid_grant");
    const second = await b.session<AppSession>();
    assert.equal(second?.errors?.oauth, "invalid_grant");
    assert.equal(second?.user.email, "revoked@example.com");
    assert.equal(h.provider.stats().faultsInjected, 1);
    assert.equal(h.provider.stats().refreshGrants, 0, "no second attempt at the provider");
    assert.equal((await account("revoked@example.com")).refreshError, "invalid_grant");
  });

  test("revoking a user's grant revokes the refresh token at the provider", async () => {
    const b = h.browser();
    await b.signIn("leaver@example.com");
    const row = await account("leaver@example.com");
    h.provider.reset();
    assert.equal(await h.oauth.revokeUser(row.userId), 1);
    assert.equal(h.provider.stats().revocations, 1);
    const cleared = await account("leaver@example.com");
    assert.equal(cleared.refresh_token, null);
    assert.equal(cleared.refreshError, "revoked");
    const reuse = await devRefreshTokenGrant({ issuer: h.provider.issuer, clientId: "integration-app", clientSecret: "integration-secret", refreshToken: row.refresh_token! });
    assert.equal(reuse.body?.error, "invalid_grant");
  });
});
