// Security review round 4 (attack): the session's pending patch (core/patches.ts, applied by
// core/freshness.ts). The guarantee under attack: an older copy of a session cookie never gets a
// role, permission or tenant the database does not grant (beyond CLAIMS_MAX_AGE for a change made
// without a bump), and never rolls back a user's choice.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, is, permissions, tenant } from "@/lib/claims-kit";
import { cachedSessionRegistry, inProcessChangeFeed, memorySessionRegistry, type ChangeLog, type RegistryChange } from "@/lib/claims-kit/plugin";
import { definePermissions } from "@/lib/claims-kit/access";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { parsePatch, withValues } from "@/lib/claims-kit/engine/patches";
import { prismaSessionRegistry } from "@/lib/claims-kit/prisma";
import { fakeClock, jwt, memoryLogger, sharedRegistry, signInParams } from "../fixtures";

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

describe("review round 4: a pending-patch rewrite that cannot land", () => {
  // Finding: the Prisma registry's compare-and-set loop gave up after 5 attempts and returned "not
  // written", exactly as when there was nothing to write: 6 requests of one session writing at once
  // (tabs, supersedes after a max-age reload, an offline update) silently lost a change, so an
  // older copy could roll back a recorded choice, and nobody was told. The concurrent version runs
  // against SQLite and PostgreSQL in tests/integration/review-round4-registry.test.ts.
  test("review round 4: a rewrite that keeps losing the compare-and-set throws instead of reporting nothing written", async () => {
    let version = 0;
    const db = {
      // Another writer always gets in first: the stored text changes between every read and write.
      $queryRaw: async () => [{ id: "s1", pendingPatch: `{"id":"p${version++}"}`, v: 0 }],
      $executeRaw: async () => 0,
    };
    const registry = prismaSessionRegistry(db as never);
    await assert.rejects(registry.rewritePatch({ sid: "s1" }, (current) => withValues(current, { tier: "pro" }, 1).text), /changed under each of \d+ attempts/);
  });
});

describe("review round 4: a user's pending-patch rewrite that fails part-way, behind the registry cache", () => {
  // With the rewrite now throwing instead of losing a change silently, a user's rewrite can fail on
  // one session after writing another. The cache logged a change only for a rewrite that returned:
  // the session it did write was served from other processes' caches as it was before.
  test("review round 4: the sessions written before the failure are not served stale by another process", async () => {
    const { registry, state } = sharedRegistry();
    const log: RegistryChange[] = [];
    const changes: ChangeLog = {
      async append(kind, key) {
        log.push({ seq: log.length + 1, kind, key });
      },
      since: async (seq, limit) => log.filter((c) => c.seq > seq).slice(0, limit),
      latest: async () => log.length,
    };
    const rewrite = registry.rewritePatch.bind(registry);
    // The database: s1 is written, then s2's compare-and-set keeps losing.
    registry.rewritePatch = async (where, next, options) => {
      await rewrite({ sid: "s1" }, next, options);
      throw new Error("session s2: the pending patch changed under each of 100 attempts to rewrite it");
    };
    const feed = { ...inProcessChangeFeed(), crossProcess: true };
    const a = cachedSessionRegistry(registry, { changes, feed });
    const b = cachedSessionRegistry(registry, { changes, feed });
    await a.create({ sid: "s1", userId: "u1", now: 1000 });
    await a.create({ sid: "s2", userId: "u1", now: 1000 });
    assert.equal((await b.check("s1"))?.pendingPatch, null); // cached in b
    await assert.rejects(a.rewritePatch({ userId: "u1" }, () => '{"id":"p1","c":{"tenantId":"t2"}}'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(state.get("s1")!.pendingPatch, '{"id":"p1","c":{"tenantId":"t2"}}');
    assert.equal((await b.check("s1"))?.pendingPatch, '{"id":"p1","c":{"tenantId":"t2"}}', "b still serves s1 without the change");
    await Promise.all([a.close(), b.close()]);
  });
});
