// Recent authentication and step-up against the real provider: auth_time, acr and amr come from
// the id_token and stay what the sign-in said; a stale or too-weak sign-in gets the max_age /
// acr_values that the provider then enforces (a login again, a one-time code).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { checkRecentAuth, stepUpFromChallenge, stepUpParams } from "../../lib/claims-kit/oidc";
import { claim, claimsKit, ClaimsKitError } from "../../lib/claims-kit";
import { CookieJar } from "../../scripts/oidc/dev-login";
import { fakeClock, startHarness, type Harness } from "./harness";

const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now });
});
after(async () => {
  await h.close();
});

const now = () => Math.floor(clock.now() / 1000);
const FIVE_MINUTES = { maxAge: 300 };

/** Sign in keeping the provider's session in `idp`; returns which provider pages were shown. */
async function signIn(b: ReturnType<Harness["browser"]>, idp: CookieJar, login: string, params?: Record<string, string>, fields?: Record<string, string>) {
  const forms: string[] = [];
  await b.signIn(login, "oidc", { params, login: { jar: idp, fields, onForm: (kind) => forms.push(kind) } });
  return forms;
}

describe("recent authentication", () => {
  test("fresh: a sign-in within the last five minutes meets the requirement, with what the id_token said", async () => {
    clock.reset();
    const b = h.browser();
    await signIn(b, new CookieJar(), "lena@example.com");
    const result = checkRecentAuth(await b.token(), FIVE_MINUTES, now());
    assert.equal(result.ok, true);
    assert.ok(result.ok && Math.abs(result.authTime - now()) < 30);
    assert.deepEqual(result.ok && [result.acr, result.amr], ["pwd", ["pwd"]]);
  });

  test("stale: an old authentication asks for max_age, and the provider makes the user log in again", async () => {
    clock.reset();
    const b = h.browser();
    const idp = new CookieJar();
    // Authenticated at the provider ten minutes ago (the dev provider's +aged600 tag).
    await signIn(b, idp, "milo+aged600@example.com");
    const stale = checkRecentAuth(await b.token(), FIVE_MINUTES, now());
    assert.deepEqual(stale, { ok: false, kind: "refused", code: "auth_too_old", stepUp: { max_age: "300" } });

    // Without max_age the provider's session signs the user in again silently: still ten minutes old.
    const control = await signIn(b, idp, "milo+aged600@example.com");
    assert.deepEqual(control, ["consent"], "no login asked (single sign-on)");
    assert.equal(checkRecentAuth(await b.token(), FIVE_MINUTES, now()).ok, false);

    // With the step-up's max_age it must authenticate the user again.
    const previous = h.internals.sessionId((await b.token()) as never)!;
    const stepUp = await signIn(b, idp, "milo@example.com", { ...stale.ok ? {} : stale.stepUp });
    assert.equal(stepUp[0], "login", "the provider asked for the password again");
    const fresh = checkRecentAuth(await b.token(), FIVE_MINUTES, now());
    assert.equal(fresh.ok, true);
    const replaced = await h.prisma.userSession.findUniqueOrThrow({ where: { id: previous } });
    assert.equal(replaced.endedBy, "replaced", "the step-up replaced the stale session");

    // Five minutes after the new login (the provider's time is wall time; the sign-ins took some).
    clock.advance((fresh.ok ? fresh.authTime : now()) + 301 - now());
    assert.equal(checkRecentAuth(await b.token(), FIVE_MINUTES, now()).ok, false, "and it goes stale again after five minutes");
  });

  test("wrong acr: acr_not_met asks for acr_values, and the provider wants a one-time code for mfa", async () => {
    clock.reset();
    const b = h.browser();
    await signIn(b, new CookieJar(), "nina@example.com");
    const weak = checkRecentAuth(await b.token(), { maxAge: 300, acr: "mfa" }, now());
    assert.deepEqual(weak, { ok: false, kind: "refused", code: "acr_not_met", stepUp: { max_age: "300", acr_values: "mfa" } });
    assert.ok(!weak.ok);

    // Without the code the provider keeps asking (it never hands out an acr it did not check).
    await assert.rejects(signIn(h.browser(), new CookieJar(), "nina@example.com", weak.stepUp), /did not reach the redirect_uri/);

    await signIn(b, new CookieJar(), "nina@example.com", weak.stepUp, { otp: "123456" });
    const strong = checkRecentAuth(await b.token(), { maxAge: 300, acr: "mfa" }, now());
    assert.equal(strong.ok, true);
    assert.deepEqual(strong.ok && [strong.acr, strong.amr], ["mfa", ["pwd", "otp"]]);
    assert.equal(checkRecentAuth(await b.token(), { maxAge: 300, acr: ["gold", "mfa"] }, now()).ok, true, "any acr of a list will do");
  });

  test("the authentication claims are the sign-in's: no refresh, update or plugin changes them", async () => {
    clock.reset();
    const b = h.browser();
    await signIn(b, new CookieJar(), "omar+ttl60@example.com");
    const before = await b.token();
    h.provider.reset();
    clock.advance(120); // past the access token's expiry: the next request refreshes it
    assert.ok(await b.session());
    assert.equal(h.provider.stats().refreshSuccess, 1, "a refresh happened");
    const after = (await b.token())!;
    assert.deepEqual([after.auth_time, after.acr, after.amr], [before!.auth_time, before!.acr, before!.amr]);

    assert.throws(() => claimsKit({ plugins: [{ id: "sneaky", claims: { acr: claim.client<string>() } }] }), (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_protected");
    const userId = after.sub as string;
    await assert.rejects(h.kit.sessions.updateOffline(userId, { auth_time: now() } as never), (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_protected");
  });

  test("an API's RFC 9470 challenge becomes the same step-up", () => {
    const requirement = stepUpFromChallenge('Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="mfa", max_age="300"');
    assert.deepEqual(requirement, { maxAge: 300, acr: ["mfa"] });
    assert.deepEqual(stepUpParams(requirement!), { max_age: "300", acr_values: "mfa" });
  });
});
