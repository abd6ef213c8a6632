// Security round 3 (#22, item 5): examples/minimal, the app that shows others how to use the kit,
// made anyone whose provider profile merely claimed alice@example.com staff: its role map ignored
// email_verified (the bug class of the previous round's account takeover by an unverified address).
// The dev provider's `alice+unverified@example.com` login is exactly that identity.
import assert from "node:assert/strict";
import { test } from "node:test";
import { roleOf } from "../../../examples/minimal/staff";

const ALICE = "alice@example.com";
/** A sign-in as roles() sees it: Auth.js's user (no adapter: the profile's address, lower-cased) and the id_token's claims. */
const signIn = (profile: Record<string, unknown>) =>
  ({ reason: "signIn", user: { email: typeof profile.email === "string" ? profile.email.toLowerCase() : null }, profile, token: { email: profile.email } }) as const;

test("attack: an unverified alice@example.com is not staff in the minimal example, at sign-in or after a refresh", () => {
  for (const profile of [
    { sub: `${ALICE}#unverified`, email: ALICE, email_verified: false },
    { sub: "other", email: ALICE },
    { sub: "other", email: "Alice@Example.com", email_verified: "true" },
  ]) {
    const role = roleOf(signIn(profile));
    assert.equal(role, "user", `${JSON.stringify(profile)} became ${role}`);
    // A claims refresh (no profile) of that session keeps it a user.
    assert.equal(roleOf({ reason: "refresh", token: { email: ALICE, role } }), "user");
  }
});

test("the verified owner of a staff address is staff, and stays staff on a refresh", () => {
  const role = roleOf(signIn({ sub: ALICE, email: ALICE, email_verified: true }));
  assert.equal(role, "staff");
  assert.equal(roleOf({ reason: "refresh", token: { email: ALICE, role } }), "staff");
  assert.equal(roleOf(signIn({ sub: "bob", email: "bob@example.com", email_verified: true })), "user");
  // A staff token whose address left the map is a user again on its next refresh.
  assert.equal(roleOf({ reason: "refresh", token: { email: "carol@example.com", role: "staff" } }), "user");
});
