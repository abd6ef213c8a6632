// The session version tabs compare (next/internal/session-version.ts), issue #16 item 2.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SIGNED_OUT_VERSION, sessionVersion } from "@/lib/claims-kit/next/internal/session-version";

describe("sessionVersion", () => {
  const session = { user: { id: "u1", name: "Alice", email: "a@example.com" }, claims: { tier: "pro", credits: 3, groups: ["a", "b"] }, expires: "2026-12-01T00:00:00.000Z" };

  test("the same claims give the same version, whatever the key order, expiry or last update", () => {
    const reordered = { expires: "2027-01-01T00:00:00.000Z", claims: { groups: ["a", "b"], credits: 3, tier: "pro" }, user: { email: "a@example.com", name: "Alice", id: "u1" }, update: { intent: "refreshClaims", nonce: "n1" } };
    assert.equal(sessionVersion(reordered), sessionVersion(session));
    assert.match(sessionVersion(session), /^s[0-9a-f]{16}$/);
  });

  test("any claim, user field or error changes it; no session is 'out'", () => {
    const base = sessionVersion(session);
    assert.notEqual(sessionVersion({ ...session, claims: { ...session.claims, credits: 2 } }), base);
    assert.notEqual(sessionVersion({ ...session, claims: { ...session.claims, groups: ["b", "a"] } }), base);
    assert.notEqual(sessionVersion({ ...session, user: { ...session.user, name: "Al" } }), base);
    assert.notEqual(sessionVersion({ ...session, errors: { oauth: "invalid_grant" } }), base);
    assert.equal(sessionVersion(null), SIGNED_OUT_VERSION);
    assert.equal(sessionVersion(undefined), SIGNED_OUT_VERSION);
  });

  test("it names a state without showing it: no claim value appears in it", () => {
    const version = sessionVersion({ user: { id: "u1" }, claims: { tenantId: "acme", role: "staff" } });
    for (const value of ["acme", "staff", "u1"]) assert.equal(version.includes(value), false);
  });
});

