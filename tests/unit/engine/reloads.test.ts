// Claim reloads (after a claims-version bump, a failed load, a kit or plugin max age): all or nothing
// per plugin, the rest of the reload applies (security review, issue #10).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit } from "@/lib/claims-kit";
import { memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { nextDue, phaseOf } from "@/lib/claims-kit/engine/schedule";
import { fakeClock, jwt, memoryLogger, signInParams } from "../fixtures";

type K = { sid: string; v?: number; l?: number; e?: Record<string, { code: string }>; u?: { i: string; n?: string; c?: string } };
const k = (token: JWT) => token._k as K;

describe("reloads are all or nothing (review item 2)", () => {
  function rolesAndPermissions() {
    const db = { role: "admin", failPermissions: false };
    const role = appClaims({ id: "role", claims: { role: claim.client<string>() }, load: () => ({ role: db.role }) });
    const perms = appClaims({
      id: "perms",
      claims: { perms: claim.client<string>() },
      reloadOn: ["role"],
      load: ({ token }) => {
        if (db.failPermissions) throw new Error("database unavailable");
        return { perms: token.role === "admin" ? "all" : "read" };
      },
    });
    return { db, plugins: [role, perms] as const };
  }

  test("a failed reload after a claims-version bump keeps the old claims whole, and the next request retries it", async () => {
    const { db, plugins } = rolesAndPermissions();
    const registry = memorySessionRegistry();
    const kit = claimsKit({ plugins, sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    assert.deepEqual([token.role, token.perms], ["admin", "all"]);

    db.role = "viewer";
    db.failPermissions = true;
    await registry.bumpClaimsVersion("user-1");
    const failed = await jwt(kit, { token });
    assert.deepEqual([failed.role, failed.perms], ["admin", "all"], "never a viewer role with admin permission bits");
    // Version 0 is left out of the cookie (absent reads as 0).
    assert.equal(k(failed).v ?? 0, 0, "the version does not advance past a failed reload");
    assert.equal(k(failed).e?.perms?.code, "load_failed");

    db.failPermissions = false;
    const retried = await jwt(kit, { token: failed });
    assert.deepEqual([retried.role, retried.perms], ["viewer", "read"]);
    assert.equal(k(retried).v, 1);
    assert.equal(k(retried).e, undefined);
  });

  test("a load that failed at sign-in is retried on the next request, even without a max age", async () => {
    const { db, plugins } = rolesAndPermissions();
    const kit = claimsKit({ plugins, logger: memoryLogger() });
    db.failPermissions = true;
    const token = await jwt(kit, signInParams());
    assert.equal(token.perms, undefined);
    assert.equal(k(token).l, 0, "marked as never fully loaded");
    db.failPermissions = false;
    const next = await jwt(kit, { token });
    assert.equal(next.perms, "all");
    assert.ok((k(next).l ?? 0) > 0);
  });

  test("a per-plugin max-age reload whose dependent fails keeps both as they were", async () => {
    const db = { tier: "free", failDerived: false };
    const billing = appClaims({ id: "billing", claims: { tier: claim.client<string>() }, maxAge: 60, load: () => ({ tier: db.tier }) });
    const derived = appClaims({
      id: "derived",
      claims: { isPro: claim.client<boolean>() },
      reloadOn: ["tier"],
      load: ({ token }) => {
        if (db.failDerived) throw new Error("down");
        return { isPro: token.tier === "pro" };
      },
    });
    let now = Date.UTC(2026, 11, 1);
    const kit = claimsKit({ plugins: [billing, derived], clock: () => now, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    db.tier = "pro";
    db.failDerived = true;
    now += 61_000;
    const failed = await jwt(kit, { token });
    assert.deepEqual([failed.tier, failed.isPro], ["free", false]);
    db.failDerived = false;
    const retried = await jwt(kit, { token: failed });
    assert.deepEqual([retried.tier, retried.isPro], ["pro", true]);
  });
});

describe("a patch the rules refuse clears that plugin's claims, the rest of the reload applies (review)", () => {
  test("a version-bump reload with one always-refused claim still applies the others and advances the version", async () => {
    const db = { role: "admin", name: "ok" };
    const role = appClaims({ id: "role", claims: { role: claim.client<string>() }, load: () => ({ role: db.role }) });
    const perms = appClaims({ id: "perms", claims: { perms: claim.client<string>() }, reloadOn: ["role"], load: ({ token }) => ({ perms: token.role === "admin" ? "all" : "read" }) });
    const label = appClaims({ id: "label", claims: { label: claim.client<string>(undefined, { maxBytes: 10 }) }, load: () => ({ label: db.name }) });
    const registry = memorySessionRegistry();
    const kit = claimsKit({ plugins: [role, perms, label], sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    db.role = "viewer";
    db.name = "x".repeat(50); // refused on every try: over its 10 bytes
    await registry.bumpClaimsVersion("user-1");
    const after = await jwt(kit, { token });
    assert.deepEqual([after.role, after.perms, after.label], ["viewer", "read", undefined]);
    assert.equal(k(after).v, 1);
    assert.equal(k(after).e?.label?.code, "claim_invalid");
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
    // Due at the session's own moment in each 60-s period, at most 60 s after the load.
    const { l: loadedAt, sid } = token._k as { l: number; sid: string };
    const due = nextDue(loadedAt, 60, phaseOf(sid));
    assert.ok(due > loadedAt && due <= loadedAt + 60);
    clock.advance(due - 1 - clock.now() / 1000);
    token = await jwt(kit, { token });
    assert.equal(token.tier, "free");
    clock.advance(1);
    token = await jwt(kit, { token });
    assert.equal(token.tier, "pro");
    assert.equal(token.isPro, true);
    assert.deepEqual(loads, { billing: 1, other: 0, derived: 1 });
    clock.advance(59);
    token = await jwt(kit, { token });
    assert.equal(loads.billing, 1, "not again until another 60 s");
    clock.advance(1);
    token = await jwt(kit, { token });
    assert.equal(loads.billing, 2, "again 60 s later, at the same moment of the period");
    assert.throws(() => claimsKit({ plugins: [appClaims({ id: "bad", claims: {}, maxAge: 0, load: () => undefined })] }), /option "maxAge"/);
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
