import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appClaims, claim, claimsKit, ClaimsKitError } from "@/lib/claims-kit";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { jwt, memoryLogger, sessionShell, signInParams } from "../fixtures";

describe("sensitive claims", () => {
  test("sensitive claim names are refused at start-up unless kept server-side", () => {
    for (const name of ["password", "clientSecret", "ssn", "apiKey", "api_key", "privateKey", "creditCard", "cvv"]) {
      const p = appClaims({ id: "p", claims: { [name]: claim.token<string>() }, load: () => undefined });
      assert.throws(() => claimsKit({ plugins: [p] }), (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_sensitive" && e.message.includes(`"${name}"`), name);
    }
    const ok = appClaims({ id: "p", claims: { apiKey: claim.server<string>() }, load: () => undefined });
    assert.doesNotThrow(() => claimsKit({ plugins: [ok], serverStore: { read: async () => null, write: async () => {}, remove: async () => {} } }));
  });

  test("raw credentials are refused in client-visible claims", async () => {
    const jwtLike = `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${"x".repeat(20)}`;
    for (const value of ["sk_live_0123456789abcdef", "AKIAABCDEFGHIJKLMNOP", `ghp_${"a".repeat(36)}`, jwtLike, "-----BEGIN RSA PRIVATE KEY-----\nabc"]) {
      const p = appClaims({ id: "p", claims: { note: claim.client<string>() }, load: () => ({ note: value }) });
      const token = await jwt(claimsKit({ plugins: [p], logger: memoryLogger() }), signInParams());
      assert.equal(token.note, undefined, value.slice(0, 12));
      assert.equal((token._k as { e: Record<string, { code: string }> }).e.p!.code, "claim_sensitive");
    }
    // The same value may live in a token-only claim (OAuth tokens do).
    const t = appClaims({ id: "t", claims: { upstream: claim.token<string>() }, load: () => ({ upstream: jwtLike }) });
    assert.equal((await jwt(claimsKit({ plugins: [t], logger: memoryLogger() }), signInParams())).upstream, jwtLike);
  });
});

describe("short keys", () => {
  const p = appClaims({ id: "p", claims: { tenantRole: claim.client<string>() }, load: () => ({ tenantRole: "admin" }) });

  test("the cookie carries the short key; plugins, session() and expand() see the full name", async () => {
    const kit = claimsKit({ plugins: [p], keys: { tenantRole: "tr" }, logger: memoryLogger() });
    const stored = await jwt(kit, signInParams());
    assert.equal(stored.tr, "admin");
    assert.equal("tenantRole" in stored, false);
    assert.equal(internalsOf(kit).expand(stored).tenantRole, "admin");
    const next = await jwt(kit, { token: stored, trigger: "update", session: { intent: "refreshClaims" } });
    assert.deepEqual(Object.keys(next).filter((k) => k.startsWith("t")), ["tr"]);
    const session = (await kit.callbacks.session({ session: sessionShell(), token: next } as never)) as unknown as { claims: unknown };
    assert.deepEqual(session.claims, { tenantRole: "admin" });
  });

  test("keys may not shadow protected or declared claims", () => {
    assert.throws(() => claimsKit({ plugins: [p], keys: { tenantRole: "sub" } }), /option "keys.tenantRole"/);
    const q = appClaims({ id: "q", claims: { tier: claim.client<string>() }, load: () => ({ tier: "pro" }) });
    assert.throws(() => claimsKit({ plugins: [p, q], keys: { tenantRole: "tier" } }), /option "keys.tenantRole".*already a claim name/);
  });

  test("a client claim may be stored as Auth.js's name: once in the cookie, and session.user.name follows it", async () => {
    const profile = appClaims({
      id: "profile",
      claims: { displayName: claim.client<string>() },
      load: () => ({ displayName: "Alice A." }),
      intents: { rename: { input: { "~standard": { version: 1, vendor: "test", validate: (v: unknown) => ({ value: v as { to: string } }) } }, handle: ({ to }: { to: string }) => ({ displayName: to }) } },
    });
    const kit = claimsKit({ plugins: [profile], keys: { displayName: "name" }, logger: memoryLogger() });
    const stored = await jwt(kit, signInParams());
    assert.equal(stored.name, "Alice A.", "the claim replaces the name Auth.js set from the user row");
    assert.equal("displayName" in stored, false);
    const renamed = await jwt(kit, { token: stored, trigger: "update", session: { intent: "rename", input: { to: "Ally" } } });
    assert.equal(renamed.name, "Ally");
    const session = (await kit.callbacks.session({ session: sessionShell({ name: renamed.name as string, email: "alice@example.com", image: null }), token: renamed } as never)) as unknown as { user: { name: string }; claims: { displayName: string } };
    assert.equal(session.claims.displayName, "Ally");
    assert.equal(session.user.name, "Ally");
  });

  test("only a client claim takes over an Auth.js claim, and not one another plugin reloads on", () => {
    const hidden = appClaims({ id: "hidden", claims: { internalLabel: claim.token<string>() }, load: () => ({ internalLabel: "x" }) });
    assert.throws(() => claimsKit({ plugins: [hidden], keys: { internalLabel: "name" } }), /option "keys.internalLabel".*only a client claim/);
    const shown = appClaims({ id: "shown", claims: { displayName: claim.client<string>() }, load: () => ({ displayName: "A" }) });
    const follower = appClaims({ id: "follower", claims: { initials: claim.client<string>() }, reloadOn: ["name"], load: () => ({ initials: "A" }) });
    assert.throws(() => claimsKit({ plugins: [shown, follower], keys: { displayName: "name" } }), /plugin "follower" reloads on Auth.js's "name"/);
  });
});

describe("churn warning", () => {
  test("a claim rewritten on most requests is reported once with development: true, never without", async () => {
    for (const development of [true, false]) {
      const log = memoryLogger();
      let n = 0;
      const p = appClaims({ id: "seen", claims: { lastSeenAt: claim.client<number>() }, jwt: () => ({ lastSeenAt: ++n }) });
      const kit = claimsKit({ plugins: [p], logger: log, development });
      let token = await jwt(kit, signInParams());
      for (let i = 0; i < 30; i++) token = await jwt(kit, { token });
      const warnings = log.lines.filter((l) => l.includes('claim "lastSeenAt"'));
      assert.equal(warnings.length, development ? 1 : 0);
      if (development) assert.match(warnings[0]!, /changed on 20 of 20 requests/);
    }
  });
});

describe("values a token cannot carry", () => {
  test("a BigInt or a cycle is refused as claim_invalid instead of signing the user out", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const value of [10n, cyclic]) {
      const p = appClaims({ id: "p", claims: { v: claim.client<unknown>() }, load: () => ({ v: value }) });
      const token = await jwt(claimsKit({ plugins: [p], logger: memoryLogger() }), signInParams());
      assert.equal(token.v, undefined);
      assert.equal((token._k as { e: Record<string, { code: string }> }).e.p!.code, "claim_invalid");
    }
  });
});

