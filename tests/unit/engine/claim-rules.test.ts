import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appClaims, claim, claimsKit, ClaimsKitError } from "@/lib/claims-kit";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { readMeta, writeMeta } from "@/lib/claims-kit/engine/meta";
import { fakeClock, fakeRegistry, jwt, memoryLogger, sessionShell, signInParams } from "../fixtures";

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

describe("session checks", () => {
  const p = appClaims({ id: "p", claims: { plan: claim.client<string>() }, load: () => ({ plan: "pro" }) });

  test("checkEvery spaces out registry reads", async () => {
    const clock = fakeClock();
    const registry = fakeRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, freshness: { checkEvery: 10 }, clock: clock.now, logger: memoryLogger() });
    let token = await jwt(kit, signInParams());
    for (let i = 0; i < 5; i++) token = await jwt(kit, { token });
    assert.equal(registry.checks, 0, "inside the window");
    clock.advance(11);
    token = await jwt(kit, { token });
    assert.equal(registry.checks, 1);
  });

  test("a registry failure keeps the session (recorded), an unknown or revoked session ends it", async () => {
    const registry = fakeRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    registry.fail = true;
    const kept = await jwt(kit, { token });
    assert.equal((kept._k as { e: Record<string, { code: string }> }).e.kit!.code, "plugin_failed");
    registry.fail = false;
    const sid = (token._k as { sid: string }).sid;
    registry.state.get(sid)!.revoked = true;
    assert.equal(await kit.callbacks.jwt({ token }), null);
    registry.state.delete(sid);
    assert.equal(await kit.callbacks.jwt({ token }), null);
  });

  test("an epoch change ends the session", async () => {
    const registry = fakeRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    registry.state.get((token._k as { sid: string }).sid)!.epoch = "e2";
    assert.equal(await kit.callbacks.jwt({ token }), null);
  });

  test("freshness options are checked at start-up", () => {
    assert.throws(() => claimsKit({ plugins: [p], freshness: { maxAge: -1 } }), /option "freshness.maxAge"/);
    assert.throws(() => claimsKit({ plugins: [p], freshness: { checkEvery: 5 } }), /option "sessions" is required/);
  });
});

describe("per-plugin max age", () => {
  test("a plugin with its own max age reloads alone, and its dependents follow", async () => {
    const clock = fakeClock();
    let tier = "free";
    let loads = { billing: 0, other: 0, derived: 0 };
    const billing = appClaims({ id: "billing", claims: { tier: claim.client<string>() }, maxAge: 60, load: () => (loads.billing++, { tier }) });
    const other = appClaims({ id: "other", claims: { x: claim.client<string>() }, load: () => (loads.other++, { x: "x" }) });
    const derived = appClaims({ id: "derived", claims: { isPro: claim.client<boolean>() }, reloadOn: ["tier"], load: ({ token }) => (loads.derived++, { isPro: token.tier === "pro" }) });
    const kit = claimsKit({ plugins: [billing, other, derived], clock: clock.now, logger: memoryLogger() });
    let token = await jwt(kit, signInParams());
    loads = { billing: 0, other: 0, derived: 0 };
    tier = "pro";
    clock.advance(59);
    token = await jwt(kit, { token });
    assert.equal(token.tier, "free");
    clock.advance(2);
    token = await jwt(kit, { token });
    assert.equal(token.tier, "pro");
    assert.equal(token.isPro, true);
    assert.deepEqual(loads, { billing: 1, other: 0, derived: 1 });
    token = await jwt(kit, { token });
    assert.equal(loads.billing, 1, "not again until another 60 s");
    assert.throws(() => claimsKit({ plugins: [appClaims({ id: "bad", claims: {}, maxAge: 0, load: () => undefined })] }), /option "maxAge"/);
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

describe("kit max age and plugin max age together", () => {
  test("the kit-wide reload leaves a plugin with its own (longer) max age alone", async () => {
    const clock = fakeClock();
    const loads = { slow: 0, fast: 0 };
    const slow = appClaims({ id: "slow", claims: { a: claim.client<number>() }, maxAge: 3600, load: () => ({ a: ++loads.slow }) });
    const fast = appClaims({ id: "fast", claims: { b: claim.client<number>() }, load: () => ({ b: ++loads.fast }) });
    const kit = claimsKit({ plugins: [slow, fast], freshness: { maxAge: 60 }, clock: clock.now, logger: memoryLogger() });
    let token = await jwt(kit, signInParams());
    clock.advance(61);
    token = await jwt(kit, { token });
    assert.deepEqual(loads, { slow: 1, fast: 2 });
    clock.advance(3600);
    token = await jwt(kit, { token });
    assert.deepEqual(loads, { slow: 2, fast: 3 });
    assert.equal(token.a, 2);
  });
});

describe("the bookkeeping's wire form", () => {
  test("a registry session's version 0 costs no bytes and reads back as 0; the epoch is always written", () => {
    const wire = writeMeta({ sessionId: "s1", claimsVersion: 0, epoch: "0", loadedAt: 100 });
    assert.deepEqual(wire, { sid: "s1", l: 100, ep: "0" });
    assert.deepEqual(readMeta({ _k: wire }), { sessionId: "s1", claimsVersion: 0, epoch: "0", loadedAt: 100 });
    const bumped = writeMeta({ sessionId: "s1", claimsVersion: 3, epoch: "e2" });
    assert.deepEqual(readMeta({ _k: bumped }), { sessionId: "s1", claimsVersion: 3, epoch: "e2" });
    // Without a session id (no registry) nothing is filled in; the epoch never is (freshness reads a missing one as "0").
    assert.deepEqual(readMeta({ _k: { l: 5 } }), { loadedAt: 5 });
  });
});
