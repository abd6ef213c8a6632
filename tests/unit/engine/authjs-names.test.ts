// A client claim stored under one of Auth.js's own claim names (name, email, picture): never born
// with, or falling back to, Auth.js's value (security review of the hot path, commit 21f1b64, finding 3).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, is, roles } from "@/lib/claims-kit";
import { memoryLogger, sessionShell, signInParams } from "../fixtures";

describe("review: a client claim stored as Auth.js's name/email/picture", () => {
  test("at sign-in the claim never takes Auth.js's provider/user value, even when its load fails (no role escalation)", async () => {
    // An accepted configuration: `role` is a client claim and no plugin reloads on "name".
    const kit = claimsKit({
      plugins: [roles({ roles: ["user", "staff"], load: async () => { throw new Error("database hiccup"); } })],
      keys: { role: "name" },
      logger: memoryLogger(),
    });
    // What Auth.js hands jwt() at sign-in: name is the user row's / provider profile's name, which
    // the user chooses at the identity provider.
    const params = signInParams();
    params.token.name = "staff";
    params.user.name = "staff";
    const stored = (await kit.callbacks.jwt(params as never)) as JWT;
    const session = (await kit.callbacks.session({ session: sessionShell({ name: "staff", email: "alice@example.com", image: null }), token: stored } as never)) as unknown as { claims: { role?: string } };
    // A failed sign-in load leaves the role absent (fail closed).
    assert.equal(session.claims.role, undefined, `a failed role load left role=${JSON.stringify(session.claims.role)} taken from Auth.js's "name"`);
  });

  test("the app's displayName (is.stringMax(60), no control characters) never takes the provider's name unchecked when source.displayName throws", async () => {
    // As auth.config.ts declares it, with the load failing at sign-in (a database error).
    const profile = appClaims({
      id: "profile",
      claims: { displayName: claim.client<string>(is.stringMax(60), { maxBytes: 242 }) },
      load: async () => { throw new Error("database hiccup"); },
    });
    const kit = claimsKit({ plugins: [profile], keys: { displayName: "name" }, logger: memoryLogger() });
    const providerName = `${"A".repeat(300)}\u0007\u001b[2J`;
    const params = signInParams();
    params.token.name = providerName;
    const stored = (await kit.callbacks.jwt(params as never)) as JWT;
    const session = (await kit.callbacks.session({ session: sessionShell({ name: providerName, email: "alice@example.com", image: null }), token: stored } as never)) as unknown as { claims: { displayName?: string } };
    const value = session.claims.displayName;
    assert.ok(value === undefined || (value.length <= 60 && !/\p{Cc}/u.test(value)), `claims.displayName is ${value?.length} characters with control characters, never checked`);
  });

  test("a client claim without a sign-in load (set by an intent only) is not born with Auth.js's value", async () => {
    // A tier claim only ever set by an intent (validated: "free" | "pro"), stored as Auth.js's picture.
    const billing = appClaims({
      id: "billing",
      claims: { tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])) },
      intents: { downgrade: { input: { "~standard": { version: 1, vendor: "t", validate: (v: unknown) => ({ value: v }) } }, handle: () => ({ tier: "free" as const }) } },
    });
    const kit = claimsKit({ plugins: [billing], keys: { tier: "picture" }, logger: memoryLogger() });
    const params = signInParams();
    params.token.picture = "pro"; // the user's avatar URL at the provider
    const stored = (await kit.callbacks.jwt(params as never)) as JWT;
    const session = (await kit.callbacks.session({ session: sessionShell(), token: stored } as never)) as unknown as { claims: { tier?: string } };
    assert.equal(session.claims.tier, undefined, `tier=${JSON.stringify(session.claims.tier)} came from Auth.js's picture, never from the plugin`);
  });

  test("no claim may take over Auth.js's email: apps trust session.user.email as an identity", () => {
    const contact = appClaims({ id: "contact", claims: { contactEmail: claim.client<string>(is.stringMax(254)) }, load: () => ({ contactEmail: "alice@example.com" }) });
    assert.throws(() => claimsKit({ plugins: [contact], keys: { contactEmail: "email" } }), /option "keys.contactEmail".*identity apps trust/);
  });

  test("held: token/server claims cannot take Auth.js's names; undeclared/long Auth.js names are refused", () => {
    const t = appClaims({ id: "t", claims: { internalNote: claim.token<string>() }, load: () => undefined });
    for (const short of ["name", "picture"]) assert.throws(() => claimsKit({ plugins: [t], keys: { internalNote: short } }), /only a client claim/);
    assert.throws(() => claimsKit({ plugins: [t], keys: { picture: "name" } }), /only a client claim/);
    assert.throws(() => claimsKit({ plugins: [t], keys: { nope: "name" } }), /only a client claim/);
  });
});

