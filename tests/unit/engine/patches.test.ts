// The session's pending patch (engine/patches.ts, applied in engine/freshness.ts): what older copies of
// a cookie pick up. Choices are re-derived by their plugin's load; server values age out by load
// time, are superseded by a completed reload, and are dropped by a claims-version bump.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, is, permissions, tenant } from "@/lib/claims-kit";
import { definePermissions } from "@/lib/claims-kit/access";
import { memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { parsePatch, withChoices, withoutValues, withValues } from "@/lib/claims-kit/engine/patches";
import { fakeClock, jwt, memoryLogger, signInParams } from "../fixtures";

const access = definePermissions({ permissions: ["doc:read", "doc:write", "admin:all"], roles: { admin: "*", member: ["doc:read", "doc:write"], viewer: ["doc:read"] } });

function setup() {
  const clock = fakeClock();
  const db = { memberships: { t1: "admin", t2: "member" } as Record<string, string>, tier: "free" };
  const registry = memorySessionRegistry();
  const kit = claimsKit({
    clock: clock.now,
    logger: memoryLogger(),
    sessions: registry,
    freshness: { maxAge: 300 },
    plugins: [
      tenant({
        roles: ["admin", "member", "viewer"],
        defaultTenant: () => (db.memberships.t1 ? { tenantId: "t1", role: db.memberships.t1 } : null),
        membership: (_user, tenantId) => (db.memberships[tenantId] ? { role: db.memberships[tenantId]! } : null),
      }),
      permissions({ set: access, from: ["tenantRole"] }),
      appClaims({ id: "billing", claims: { tier: claim.client<string>(is.oneOf(["free", "pro"])) }, load: () => ({ tier: db.tier }) }),
      // Set by server code only: no load, so no reload ever replaces it.
      appClaims({ id: "flags", claims: { banner: claim.client<string>(is.string) }, jwt: () => undefined }),
    ] as const,
  });
  const pending = async (token: JWT) => parsePatch((await registry.check((token._k as { sid: string }).sid))?.pendingPatch);
  return { clock, db, kit, registry, pending };
}

describe("pending patch format", () => {
  test("choices and values merge per claim, the newest wins, and one replaces the other", () => {
    const a = withChoices(null, { tenantId: "t2" });
    const b = withValues(a.text, { tier: "pro", tenantId: "t3" }, 100);
    const p = parsePatch(b.text)!;
    assert.deepEqual(p.choices, {});
    assert.deepEqual(p.values, { tier: { value: "pro", at: 100 }, tenantId: { value: "t3", at: 100 } });
    assert.equal(p.id, b.id);
    const c = parsePatch(withChoices(b.text, { tenantId: "t4" }).text)!;
    assert.deepEqual(c.choices, { tenantId: "t4" });
    assert.deepEqual(Object.keys(c.values), ["tier"]);
  });

  test("withoutValues keeps choices, drops what it is told, and says when nothing changes", () => {
    const text = withValues(withChoices(null, { tenantId: "t2" }).text, { tier: "pro" }, 100).text;
    assert.equal(withoutValues(text, (_name, at) => at < 100), undefined);
    const dropped = parsePatch(withoutValues(text)!.text)!;
    assert.deepEqual([dropped.choices, dropped.values], [{ tenantId: "t2" }, {}]);
    assert.equal(withoutValues(withValues(null, { tier: "pro" }, 1).text)!.text, null);
    assert.equal(withoutValues(null), undefined);
  });

  test("malformed text and the format before choices are no patch (nothing is granted from them)", () => {
    for (const text of ["{", "[]", '{"id":1}', '{"id":"x","patch":{"tenantRole":"admin"}}']) {
      const p = parsePatch(text);
      assert.ok(p === null || (Object.keys(p.choices).length === 0 && Object.keys(p.values).length === 0), text);
    }
    assert.deepEqual(parsePatch('{"id":"x","v":{"tier":["pro","soon"],"ok":["a",5]}}')!.values, { ok: { value: "a", at: 5 } });
  });
});

describe("pending patch on the request path", () => {
  test("a switch queues the tenant only; an older copy takes the role from the membership as it is then", async () => {
    const { db, kit, pending } = setup();
    const first = await jwt(kit, signInParams());
    const switched = await jwt(kit, { token: first, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
    assert.deepEqual((await pending(switched))!.choices, { tenantId: "t2" });
    assert.deepEqual((await pending(switched))!.values, {});
    db.memberships.t2 = "viewer";
    const older = await jwt(kit, { token: first });
    assert.equal(older.tenantId, "t2");
    assert.equal(older.tenantRole, "viewer");
    assert.deepEqual([...access.decode(older.permissions)], ["doc:read"]);
  });

  test("a server value older than the copy's last load of its claim is ignored; a value without a load always applies", async () => {
    const { clock, db, kit } = setup();
    const first = await jwt(kit, signInParams());
    clock.advance(10);
    await kit.sessions.updateOffline("user-1", { tier: "pro", banner: "hello" });
    clock.advance(300);
    db.tier = "free";
    // A copy that reloads (max age) in this request: the reload is newer than the value.
    const reloaded = await jwt(kit, { token: first });
    assert.equal(reloaded.tier, "free");
    assert.equal(reloaded.banner, "hello");
  });

  test("a completed reload supersedes the values before it: an older copy no longer gets them", async () => {
    const { clock, db, kit, pending } = setup();
    const first = await jwt(kit, signInParams()); // loads tier "free"
    clock.advance(10);
    db.tier = "pro";
    await kit.sessions.updateOffline("user-1", { tier: "pro" });
    clock.advance(5);
    db.tier = "free"; // changed back in the database, without an update
    const reloaded = await jwt(kit, { token: first, trigger: "update", session: { intent: "refreshClaims" } });
    assert.equal(reloaded.tier, "free");
    assert.equal(await pending(reloaded), null, "the superseded value is gone from the registry");
    // `first` loaded before the value was set: without the supersede it would take "pro" from it.
    assert.equal((await jwt(kit, { token: first })).tier, "free");
  });

  test("a claims-version bump drops server values and keeps choices", async () => {
    const { kit, pending } = setup();
    const first = await jwt(kit, signInParams());
    const switched = await jwt(kit, { token: first, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
    await kit.sessions.updateOffline("user-1", { tier: "pro" });
    await kit.sessions.reloadClaims("user-1");
    const p = (await pending(switched))!;
    assert.deepEqual(p.choices, { tenantId: "t2" });
    assert.deepEqual(p.values, {});
    const older = await jwt(kit, { token: first });
    assert.equal(older.tenantId, "t2");
    assert.equal(older.tier, "free");
  });

  test("a choice whose membership is gone falls back to the default tenant, through the plugin's own check", async () => {
    const { db, kit } = setup();
    const first = await jwt(kit, signInParams());
    await jwt(kit, { token: first, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
    delete db.memberships.t2;
    const older = await jwt(kit, { token: first });
    assert.equal(older.tenantId, "t1");
    assert.equal(older.tenantRole, "admin");
  });

  test("chooses must name the plugin's own claims (start-up error)", () => {
    assert.throws(
      () => claimsKit({ plugins: [appClaims({ id: "x", claims: { a: claim.client<string>() }, intents: { setA: { input: { "~standard": { version: 1, vendor: "t", validate: (v: unknown) => ({ value: v }) } }, handle: () => ({ a: "1" }), chooses: ["b"] } } })] }),
      /option "intents\.setA\.chooses" must list claims this plugin declares/,
    );
  });
});
