import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { ClaimsKitError } from "../../lib/claims-kit";
import { access } from "../../app/_lib/access";
import { startHarness, type Harness } from "./harness";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

describe("session updates through POST /api/auth/session", () => {
  test("setDisplayName validates, writes the database and the session", async () => {
    const b = h.browser();
    await b.signIn("bob@example.com");
    const ok = await b.update<AppSession>({ intent: "setDisplayName", input: { displayName: "  Robert  " }, nonce: "a1" });
    assert.equal(ok.session?.claims.displayName, "Robert");
    assert.equal((await h.prisma.user.findUniqueOrThrow({ where: { email: "bob@example.com" } })).displayName, "Robert");
    const bad = await b.update<AppSession>({ intent: "setDisplayName", input: { displayName: "x".repeat(61) }, nonce: "a2" });
    assert.deepEqual(bad.session?.update, { intent: "setDisplayName", nonce: "a2", code: "invalid_input" });
    assert.equal(bad.session?.claims.displayName, "Robert");
  });

  test("a display name the kit refuses is not written to the database (review item 8)", async () => {
    const b = h.browser();
    await b.signIn("carol@example.com");
    const before = await h.prisma.user.findUniqueOrThrow({ where: { email: "carol@example.com" }, select: { displayName: true } });
    const refused = await b.update<AppSession>({ intent: "setDisplayName", input: { displayName: "sk_live_0123456789abcdef" } });
    assert.equal(refused.session?.update?.code, "claim_sensitive");
    const after = await h.prisma.user.findUniqueOrThrow({ where: { email: "carol@example.com" }, select: { displayName: true } });
    assert.equal(after.displayName, before.displayName, "nothing written for a refused value");
    // And no later reload turns it into a recorded error.
    const refreshed = await b.update<AppSession>({ intent: "refreshClaims" });
    assert.equal(refreshed.session?.errors, undefined);
  });

  test("client-chosen data cannot push the cookie up (review item 9)", async () => {
    const b = h.browser();
    await b.signIn("dave@example.com");
    const bytes = () => b.jar.get("authjs.session-token")?.length ?? 0;
    const before = bytes();
    const control = await b.update<AppSession>({ intent: "setDisplayName", input: { displayName: "\u0001".repeat(60) } });
    assert.equal(control.session?.update?.code, "invalid_input");
    const unknown = await b.update<AppSession>({ intent: "\u0001".repeat(64) });
    assert.equal(unknown.session?.update?.code, "update_malformed");
    assert.equal(unknown.session?.update?.intent, "");
    assert.ok(bytes() <= before + 64, `cookie grew from ${before} to ${bytes()} bytes`);
  });

  test("a tier upgrade in the database shows after refreshClaims, and a bare POST refreshes too", async () => {
    const b = h.browser();
    await b.signIn("carol@example.com");
    await h.prisma.user.update({ where: { email: "carol@example.com" }, data: { tier: "pro" } });
    assert.equal((await b.session<AppSession>())?.claims.tier, "free", "not re-read on a plain request within the max age");
    const refreshed = await b.update<AppSession>({ intent: "refreshClaims", nonce: "r1" });
    assert.equal(refreshed.session?.claims.tier, "pro");
    await h.prisma.user.update({ where: { email: "carol@example.com" }, data: { tier: "free" } });
    const bare = await b.update<AppSession>(undefined);
    assert.equal(bare.session?.claims.tier, "free");
    assert.equal(bare.session?.update?.code, undefined);
  });

  test("a server-side update merges claims; its payload works once and cannot be forged", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    const staged = h.internals.stageServerUpdate({ credits: 7, displayName: null }, await b.token());
    const first = await b.update<AppSession>(staged);
    assert.equal(first.session?.claims.credits, 7);
    assert.equal(first.session?.claims.displayName, undefined, "null deletes");
    assert.equal(first.session?.claims.tier, "pro", "other claims untouched");

    const replay = await b.update<AppSession>(staged);
    assert.equal(replay.session?.update?.code, "forbidden");
    assert.equal(replay.session?.claims.credits, 7);
    const forged = await b.update<AppSession>({ intent: "$server", nonce: "0".repeat(32) });
    assert.equal(forged.session?.update?.code, "forbidden");
    const withInput = await b.update<AppSession>({ intent: "$server", nonce: h.internals.stageServerUpdate({ credits: 1 }, await b.token()).nonce, input: { credits: 1_000_000 } });
    assert.equal(withInput.session?.update?.code, "update_malformed");
    assert.equal(withInput.session?.claims.credits, 7);
  });

  test("server code cannot stage protected or undeclared claims", async () => {
    const b = h.browser();
    await b.signIn("dave@example.com");
    const token = await b.token();
    for (const [patch, code] of [[{ sub: "x" }, "claim_protected"], [{ _k: {} }, "claim_protected"], [{ isAdmin: true }, "claim_not_owned"]] as const) {
      assert.throws(() => h.internals.stageServerUpdate(patch as never, token), (e: unknown) => e instanceof ClaimsKitError && e.code === code);
    }
    assert.throws(() => h.internals.stageServerUpdate({ credits: 1 }, null), (e: unknown) => e instanceof ClaimsKitError && e.code === "not_signed_in");
  });

  test("a staged server update is bound to the session that staged it", async () => {
    const mine = h.browser();
    const other = h.browser();
    await mine.signIn("alice@example.com");
    await other.signIn("alice@example.com");
    const staged = h.internals.stageServerUpdate({ credits: 3 }, await mine.token());
    const before = await other.session<AppSession>();
    const stolen = await other.update<AppSession>(staged);
    assert.equal(stolen.session?.update?.code, "forbidden");
    assert.equal(stolen.session?.claims.credits, before?.claims.credits);
    // The other session could not spend it either: its own session still can, once.
    assert.equal((await mine.update<AppSession>(staged)).session?.claims.credits, 3);
    assert.equal((await mine.update<AppSession>(staged)).session?.update?.code, "forbidden");
  });

  test("a server-side value failing its claim's check is refused whole, when staged and offline", async () => {
    const b = h.browser();
    await b.signIn("dave@example.com");
    const before = await b.session<AppSession>();
    const invalid = (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_invalid";
    const token = await b.token();
    assert.throws(() => h.internals.stageServerUpdate({ credits: -5, tier: "pro" }, token), invalid);
    const { id } = await h.prisma.user.findUniqueOrThrow({ where: { email: "dave@example.com" } });
    await assert.rejects(h.kit.sessions.updateOffline(id, { credits: -5, tier: "pro" }), invalid);
    assert.deepEqual((await b.session<AppSession>())?.claims, before?.claims);
  });
});

describe("the newest state wins (issue #16, item 1)", () => {
  test("a stale cookie that won the race (a slow response landing after update()) is brought forward, never rolled back", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    const before = (await b.session<AppSession>())!;
    const stale = b.jar.get("authjs.session-token")!; // what a slow GET /api/auth/session would set again
    const other = h.tenants.get("globex")!;
    assert.notEqual(before.claims.tenantId, other);
    const switched = await b.update<AppSession>({ intent: "switchTenant", input: { tenantId: other }, nonce: "t1" });
    assert.equal(switched.session?.claims.tenantId, other);
    const renamed = await b.update<AppSession>({ intent: "setDisplayName", input: { displayName: "Alice A." } });
    assert.equal(renamed.session?.claims.displayName, "Alice A.");

    b.jar.set("authjs.session-token", stale); // the slow response lands last: the browser holds the old cookie
    const after = (await b.session<AppSession>())!;
    assert.equal(after.claims.tenantId, other, "the tenant switch is re-applied");
    assert.equal(after.claims.displayName, "Alice A.");
    assert.deepEqual([...access.decode(after.claims.permissions)].sort(), [...access.decode(switched.session!.claims.permissions)].sort(), "and what depends on it");
    // The brought-forward cookie does not apply it again and again: it is marked as having it.
    const again = (await b.session<AppSession>())!;
    assert.equal(again.claims.tenantId, other);
  });
});
