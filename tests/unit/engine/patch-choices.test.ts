// The pending patch's choices (engine/patches.ts, applied by engine/freshness.ts): a queued value
// derived under an earlier choice, and an entry the claim rules refuse. Security review round 4
// (attack): an older copy of a session cookie never gets a role, permission or tenant the database
// does not grant (beyond CLAIMS_MAX_AGE for a change made without a bump), and never rolls back a
// user's choice.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, is, permissions, tenant } from "@/lib/claims-kit";
import { memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { definePermissions } from "@/lib/claims-kit/access";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { parsePatch } from "@/lib/claims-kit/engine/patches";
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
    ] as const,
  });
  const internals = internalsOf(kit);
  /** A server action's `updateSession(patch)` on the request carrying `token`. */
  const serverUpdate = (token: JWT, patch: Record<string, unknown>) => jwt(kit, { token, trigger: "update", session: internals.stageServerUpdate(patch, token) });
  const switchTenant = (token: JWT, tenantId: string) => jwt(kit, { token, trigger: "update", session: { intent: "switchTenant", input: { tenantId } } });
  const pending = async (token: JWT) => parsePatch((await registry.check((token._k as { sid: string }).sid))?.pendingPatch);
  return { clock, db, kit, registry, pending, serverUpdate, switchTenant };
}

describe("review round 4: pending patch", () => {
  // Finding: a choice replaced only the server value of the claim it chose. A server value of a
  // claim derived with the old choice (a tenant role set by "create an organisation and switch to
  // it") stayed queued; an older copy already in the newly chosen tenant skipped the choice (same
  // value, so the tenant's load did not run) and applied the stale role on top: admin in a tenant
  // where the database says member, a combination the database never granted.
  test("review round 4: a server value derived under an earlier choice is not applied to an older copy already in the tenant chosen since", async () => {
    const { clock, db, serverUpdate, switchTenant, kit } = setup();
    const signedIn = await jwt(kit, signInParams()); // t1, admin
    const inT2 = await switchTenant(signedIn, "t2"); // the tab that stays in t2 (member)
    assert.equal(inT2.tenantRole, "member");
    clock.advance(10);
    // Another tab: back to t1, then "create an organisation" t3 and switch into it from the server.
    const inT1 = await switchTenant(inT2, "t1");
    db.memberships.t3 = "admin";
    const inT3 = await serverUpdate(inT1, { tenantId: "t3", tenantRole: "admin" });
    assert.equal(inT3.tenantId, "t3");
    clock.advance(10);
    // …and back to t2, where the user is a member.
    const backInT2 = await switchTenant(inT3, "t2");
    assert.equal(backInT2.tenantRole, "member");
    // The older tab's cookie (in t2 all along) makes its next request.
    const older = await jwt(kit, { token: inT2 });
    assert.equal(older.tenantId, "t2");
    assert.equal(older.tenantRole, "member", "the role derived for t3 was applied in t2");
    assert.deepEqual([...access.decode(older.permissions as string)].sort(), ["doc:read", "doc:write"]);
  });
});

describe("review round 4: a stale entry in the pending patch", () => {
  // Finding: the pending patch was applied all or nothing through the claim rules, so one entry
  // they refuse (a value queued for a claim a later deploy removed or renamed, or whose check it
  // tightened) refused the whole patch for every older copy, the user's choices with it: an older
  // copy rolled the tenant switch back. Nothing removed the entry (a reload supersedes only
  // claims a plugin owns) and every rewrite carried it along, so it lasted until a bump.
  for (const [label, stale] of [
    ["a value for a claim no plugin declares any more", { plan: ["gold", 4_102_444_800] }],
    ["a value its claim's check now refuses", { tier: ["enterprise", 4_102_444_800] }],
  ] as const) {
    test(`review round 4: ${label} does not roll back the user's tenant choice in an older copy`, async () => {
      const { kit, registry, switchTenant } = setup();
      const first = await jwt(kit, signInParams());
      const switched = await switchTenant(first, "t2");
      const sid = (switched._k as { sid: string }).sid;
      // As a previous version of the app left it: the same patch with one more value in it.
      await registry.rewritePatch({ sid }, (current) => {
        const wire = JSON.parse(current!) as { id: string; c: Record<string, unknown>; v?: Record<string, unknown> };
        return JSON.stringify({ ...wire, id: "from-before-the-deploy", v: { ...wire.v, ...stale } });
      });
      const older = await jwt(kit, { token: first });
      assert.equal(older.tenantId, "t2", "the older copy rolled the switch back");
      assert.equal(older.tenantRole, "member");
      assert.equal(older.tier, "free");
    });
  }
});

