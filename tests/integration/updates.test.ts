import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppSession } from "../../auth.config";
import { ClaimsKitError } from "../../lib/claims-kit";
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
    const staged = h.kit.stageServerUpdate({ credits: 7, displayName: null });
    const first = await b.update<AppSession>(staged);
    assert.equal(first.session?.claims.credits, 7);
    assert.equal(first.session?.claims.displayName, undefined, "null deletes");
    assert.equal(first.session?.claims.tier, "pro", "other claims untouched");

    const replay = await b.update<AppSession>(staged);
    assert.equal(replay.session?.update?.code, "forbidden");
    assert.equal(replay.session?.claims.credits, 7);
    const forged = await b.update<AppSession>({ intent: "$server", nonce: "0".repeat(32) });
    assert.equal(forged.session?.update?.code, "forbidden");
    const withInput = await b.update<AppSession>({ intent: "$server", nonce: h.kit.stageServerUpdate({ credits: 1 }).nonce, input: { credits: 1_000_000 } });
    assert.equal(withInput.session?.update?.code, "update_malformed");
    assert.equal(withInput.session?.claims.credits, 7);
  });

  test("server code cannot stage protected or undeclared claims", () => {
    for (const [patch, code] of [[{ sub: "x" }, "claim_protected"], [{ _k: {} }, "claim_protected"], [{ isAdmin: true }, "claim_not_owned"]] as const) {
      assert.throws(() => h.kit.stageServerUpdate(patch as never), (e: unknown) => e instanceof ClaimsKitError && e.code === code);
    }
  });

  test("a server-side value failing its claim's check is refused whole", async () => {
    const b = h.browser();
    await b.signIn("dave@example.com");
    const before = await b.session<AppSession>();
    const result = await b.update<AppSession>(h.kit.stageServerUpdate({ credits: -5, tier: "pro" }));
    assert.equal(result.session?.update?.code, "claim_invalid");
    assert.deepEqual(result.session?.claims, before?.claims);
  });
});
