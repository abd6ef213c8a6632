// Issue #23, item 4: the reference app against the bundled provider issuing "thin" id_tokens
// (oidc-provider's default conformIdTokenClaims: only `sub` when an access token is issued too; the
// scope's claims from userinfo only), as LemonLDAP::NG does by default and Okta's org authorization
// server does. The app's provider (auth.config.ts) is wrapped with withUserinfo().
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decodeJwt } from "jose";
import type { AppSession } from "./harness";
import { fakeClock, startHarness, type Harness } from "./harness";

const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now, behaviour: { thinIdToken: true } });
});
after(async () => {
  await h.close();
});

describe("a provider whose id_token carries only sub (claims from userinfo)", () => {
  test("the switch holds: the bundled provider's id_token has no email or name", async () => {
    const { devAuthorizationCodeFlow } = await import("../../scripts/oidc/dev-login");
    const tokens = await devAuthorizationCodeFlow({ issuer: h.provider.issuer, clientId: h.env.AUTH_OIDC_ID!, clientSecret: h.env.AUTH_OIDC_SECRET!, redirectUri: "http://localhost:3999/api/auth/callback/oidc", login: "probe@example.com" });
    const payload = decodeJwt(tokens.id_token!);
    assert.equal(payload.email, undefined);
    assert.equal(payload.name, undefined);
    assert.equal(typeof payload.sub, "string");
  });

  test("a first sign-in creates the user with the email and name userinfo has", async () => {
    const b = h.browser();
    await b.signIn("newbie@example.com");
    const user = await h.prisma.user.findUnique({ where: { email: "newbie@example.com" } });
    assert.ok(user, "a user with the address");
    assert.equal(user.name, "Newbie");
    const session = await b.session<AppSession>();
    assert.equal(session?.user.email, "newbie@example.com");
    assert.deepEqual(session?.claims?.groups, ["users"], "the profile's other userinfo claims reach jwt() too");
  });

  test("a seeded user is linked by the email userinfo marks verified", async () => {
    const seeded = await h.prisma.user.findUniqueOrThrow({ where: { email: "bob@example.com" }, include: { accounts: true } });
    assert.equal(seeded.accounts.length, 0);
    const b = h.browser();
    await b.signIn("bob@example.com");
    const linked = await h.prisma.user.findUniqueOrThrow({ where: { email: "bob@example.com" }, include: { accounts: true } });
    assert.deepEqual(linked.accounts.map((a) => a.provider), ["oidc"], "linked to the seeded user");
    assert.equal((await b.session<AppSession>())?.user.email, "bob@example.com");
  });

  test("an address userinfo does not mark verified links nothing: the sign-in is refused", async () => {
    const b = h.browser();
    await assert.rejects(b.signIn("carol+unverified@example.com"), /callback failed/);
    const carol = await h.prisma.user.findUniqueOrThrow({ where: { email: "carol@example.com" }, include: { accounts: true } });
    assert.equal(carol.accounts.length, 0, "not linked");
    assert.equal(await h.prisma.user.count({ where: { email: null } }), 0, "no user without an address either");
  });
});
