// The pure half of step-up: what is kept from an id_token, when a requirement is met, and how an
// API's RFC 9470 challenge reads.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AUTH_CLAIMS, checkRecentAuth, stepUpFromChallenge, stepUpParams } from "@/lib/claims-kit/oidc";
import { PROTECTED_CLAIMS } from "@/lib/claims-kit/plugin";
import { authClaimsOf, providerSessionOf } from "@/lib/claims-kit/engine/auth-claims";

const NOW = 1_800_000_000;
const token = (claims: Record<string, unknown>) => ({ sub: "u1", ...claims });

describe("checkRecentAuth", () => {
  test("met within maxAge, to the second; stale one second later", () => {
    assert.deepEqual(checkRecentAuth(token({ auth_time: NOW - 300, acr: "pwd", amr: ["pwd"] }), { maxAge: 300 }, NOW), { ok: true, authTime: NOW - 300, acr: "pwd", amr: ["pwd"] });
    assert.deepEqual(checkRecentAuth(token({ auth_time: NOW - 301 }), { maxAge: 300 }, NOW), { ok: false, kind: "refused", code: "auth_too_old", stepUp: { max_age: "300" } });
  });

  test("no auth_time is never recent; not signed in is said as such", () => {
    assert.deepEqual(checkRecentAuth(token({ acr: "mfa" }), { maxAge: 300 }, NOW), { ok: false, kind: "refused", code: "auth_time_unknown", stepUp: { max_age: "300" } });
    assert.equal((checkRecentAuth(null, { maxAge: 300 }, NOW) as { code: string }).code, "not_signed_in");
    assert.equal((checkRecentAuth({ auth_time: NOW }, { maxAge: 300 }, NOW) as { code: string }).code, "not_signed_in", "a token without sub");
  });

  test("acr: one of the listed values, compared exactly; checked before the age", () => {
    const t = token({ auth_time: NOW - 1000, acr: "mfa" });
    assert.equal(checkRecentAuth(t, { acr: "mfa" }, NOW).ok, true, "only an acr asked for: age does not matter");
    assert.equal(checkRecentAuth(t, { acr: ["gold", "mfa"] }, NOW).ok, true);
    assert.deepEqual(checkRecentAuth(t, { maxAge: 60, acr: "MFA" }, NOW), { ok: false, kind: "refused", code: "acr_not_met", stepUp: { max_age: "60", acr_values: "MFA" } });
    assert.equal((checkRecentAuth(token({ auth_time: NOW }), { maxAge: 60, acr: "mfa" }, NOW) as { code: string }).code, "acr_not_met", "no acr at all");
  });

  test("a requirement that asks for nothing, or for garbage, is a programming error", () => {
    assert.throws(() => stepUpParams({}), TypeError);
    assert.throws(() => stepUpParams({ maxAge: -1 }), TypeError);
    assert.throws(() => stepUpParams({ maxAge: 1.5 }), TypeError);
    assert.throws(() => stepUpParams({ acr: "two words" }), TypeError);
    assert.deepEqual(stepUpParams({ maxAge: 0, acr: ["a", "b"] }), { max_age: "0", acr_values: "a b" });
  });
});

describe("what a sign-in keeps", () => {
  test("auth_time, acr and amr, checked and bounded; anything malformed is left out", () => {
    assert.deepEqual(authClaimsOf({ auth_time: NOW, acr: "urn:mace:incommon:iap:silver", amr: ["pwd", "otp"] }), { auth_time: NOW, acr: "urn:mace:incommon:iap:silver", amr: ["pwd", "otp"] });
    assert.deepEqual(authClaimsOf({ auth_time: "1700000000", acr: "two words", amr: "pwd" }), {});
    assert.deepEqual(authClaimsOf({ auth_time: -5, acr: "x".repeat(300), amr: [1, "pwd", "x".repeat(65)] }), { amr: ["pwd"] });
    assert.equal(authClaimsOf({ amr: Array.from({ length: 50 }, (_, i) => `m${i}`) }).amr?.length, 16);
    assert.deepEqual(authClaimsOf(undefined), {});
  });

  test("the provider session: iss and sub required, sid when given", () => {
    assert.deepEqual(providerSessionOf({ iss: "https://idp", sub: "s", sid: "p1" }), { issuer: "https://idp", subject: "s", sid: "p1" });
    assert.deepEqual(providerSessionOf({ iss: "https://idp", sub: "s" }), { issuer: "https://idp", subject: "s", sid: null });
    assert.equal(providerSessionOf({ sub: "s", sid: "p1" }), null, "not an id_token's claims");
  });

  test("they are protected claims", () => {
    for (const name of AUTH_CLAIMS) assert.ok(PROTECTED_CLAIMS.has(name), name);
  });
});

describe("stepUpFromChallenge (RFC 9470)", () => {
  test("reads acr_values and max_age, quoted or not, among other params and schemes", () => {
    assert.deepEqual(stepUpFromChallenge('Bearer error="insufficient_user_authentication", error_description="more", acr_values="mfa gold", max_age=60'), { maxAge: 60, acr: ["mfa", "gold"] });
    assert.deepEqual(stepUpFromChallenge('DPoP algs="ES256", Bearer realm="api", error="insufficient_user_authentication", max_age="5"'), { maxAge: 5 });
    assert.deepEqual(stepUpFromChallenge('Bearer error="insufficient_user_authentication"'), { maxAge: 0 }, "naming neither: a fresh authentication");
  });

  test("anything else is not a step-up", () => {
    assert.equal(stepUpFromChallenge('Bearer error="invalid_token"'), null);
    assert.equal(stepUpFromChallenge('Basic realm="x"'), null);
    assert.equal(stepUpFromChallenge(""), null);
    assert.equal(stepUpFromChallenge(null), null);
  });
});
