// The reference app against a second, independent OpenID provider: LemonLDAP::NG 2.16.1 (Debian's
// package, written in Perl, sharing no code with the bundled oidc-provider), through its real login
// and consent forms. It needs root on Debian (scripts/lemonldap/install.sh); elsewhere this file
// says why in one line and stops, except on CI, where it must run.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CookieJar } from "../../scripts/oidc/dev-login";
import { fakeClock, startHarness, type AppSession, type Harness } from "./harness";

const { lemonLdapUnavailable } = await import("../../scripts/lemonldap/llng");
const unavailable = await lemonLdapUnavailable();
if (unavailable && process.env.CI) throw new Error(`LemonLDAP::NG must run on CI: ${unavailable}`);

const clock = fakeClock();
let h: Harness;

describe("LemonLDAP::NG, live", { skip: unavailable ? `LemonLDAP::NG cannot run here: ${unavailable}` : false }, () => {
  before(async () => {
    h = await startHarness({ clock: clock.now, idp: "lemonldap" });
  });
  after(async () => {
    await h?.close();
  });

  const llng = () => h.llng!;
  /** Token-endpoint calls of one grant type since the last reset, by status. */
  const grants = async (type: string) => (await llng().counts()).token.byGrant[type] ?? { total: 0, byStatus: {} };
  /** Past the access token's expiry (and any back-off step), on the kit's clock. */
  const expire = () => clock.advance(3600);

  test("a client that gets email and name from userinfo only signs in with both (id_token without them)", async () => {
    const b = h.browser();
    const forms: string[] = [];
    await b.signIn("dwho", "oidc", { login: { onForm: (f) => forms.push(f) } });
    assert.deepEqual(forms, ["login", "consent"], "LemonLDAP's own login and consent pages");
    const session = await b.session<AppSession>();
    assert.equal(session?.user.email, "dwho@badwolf.org");
    assert.equal(session?.user.name, "Doctor Who");
    const user = await h.prisma.user.findUniqueOrThrow({ where: { email: "dwho@badwolf.org" }, select: { name: true, emailVerified: true } });
    assert.equal(user.name, "Doctor Who");
    assert.ok((await llng().counts()).userinfo.byStatus["200"]! >= 1, "userinfo was asked at sign-in");
  });

  test("the hyphenated client id refreshes once per expiry window under 25 concurrent reads; userinfo works with each new token", async () => {
    const b = h.browser();
    await b.signIn("rtyler");
    for (let window = 1; window <= 2; window++) {
      await llng().resetCounts();
      expire();
      const sessions = await Promise.all(Array.from({ length: 25 }, () => b.session<AppSession>()));
      assert.ok(sessions.every((s) => s?.user.email === "rtyler@badwolf.org" && s.errors?.oauth === undefined), `window ${window}: every read served`);
      const refresh = await grants("refresh_token");
      assert.deepEqual([refresh.total, refresh.byStatus["200"]], [1, 1], `window ${window}: one refresh call (LemonLDAP authenticates the client as Auth.js did at sign-in)`);
      const token = await h.oauth.accessToken((await b.token()) as never, Math.floor(clock.now() / 1000));
      assert.ok(token, "an access token for server code");
      const userinfo = await fetch(`${h.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${token.accessToken}` } });
      assert.equal(userinfo.status, 200);
      assert.equal(((await userinfo.json()) as { sub?: string }).sub, "rtyler");
    }
  });

  test("a grant revoked at the provider ends in 'sign in again' after a bounded number of token calls", async () => {
    const b = h.browser();
    await b.signIn("msmith");
    assert.ok((await llng().endOfflineSessions("msmith")) >= 1, "the offline session was deleted");
    await llng().resetCounts();
    const codes = new Set<string | undefined>();
    // Much longer than the back-off: every step, a burst of reads.
    for (let step = 0; step < 20; step++) {
      expire();
      for (const s of await Promise.all(Array.from({ length: 10 }, () => b.session<AppSession>()))) codes.add(s?.errors?.oauth);
    }
    const last = await b.session<AppSession>();
    assert.equal(last?.errors?.oauth, "invalid_grant", "reported as needing a new sign-in");
    const refresh = await grants("refresh_token");
    assert.equal(refresh.byStatus["400"], refresh.total, "LemonLDAP answers 400 invalid_request for a deleted offline session");
    assert.ok(refresh.total <= 2, `bounded: one refusal and one confirming attempt (got ${refresh.total} token calls for 201 reads)`);
    assert.ok(codes.has("refresh_rejected"), `the first refusal is reported before it is confirmed (saw ${[...codes].join(", ")})`);
  });

  test("RP-initiated logout ends the provider session: the next sign-in shows the login form again", async () => {
    const { llngLogoutAt } = await import("../../scripts/lemonldap/login");
    const portal = new CookieJar();
    const b = h.browser();
    await b.signIn("dwho", "oidc", { login: { jar: portal } });
    // Signed in at the portal: another sign-in in the same browser goes straight through.
    const again: string[] = [];
    await h.browser().signIn("dwho", "oidc", { login: { jar: portal, onForm: (f) => again.push(f) } });
    assert.ok(!again.includes("login"), `single sign-on while the provider session lasts (forms: ${again.join(", ")})`);
    const endSession = await h.oauth.endSessionUrl((await b.token()) as never, "http://localhost:3999/");
    assert.ok(endSession, "the provider lists an end_session_endpoint");
    assert.ok(new URL(endSession).searchParams.get("id_token_hint"), "the active session's id_token as the hint");
    await llngLogoutAt(new URL(endSession), portal, "http://localhost:3999/");
    const forms: string[] = [];
    await h.browser().signIn("dwho", "oidc", { login: { jar: portal, onForm: (f) => forms.push(f) } });
    assert.equal(forms[0], "login", "the provider asks for the password again");
  });
});
