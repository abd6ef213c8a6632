// Grants and the admin actions' authorization, through the app's real Auth.js configuration and
// database: tenant grants hold in their tenant only, global grants everywhere, and the checks
// behind the admin page's server actions read the database, not claims that may be minutes old.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { access } from "../../app/_lib/access";
import { claimsSource } from "../../app/_lib/claims-source";
import { startHarness, type Harness } from "./harness";

let h: Harness;
let source: ReturnType<typeof claimsSource>;
before(async () => {
  h = await startHarness();
  source = claimsSource(h.prisma);
});
after(async () => {
  await h.close();
});

async function userId(email: string): Promise<string> {
  return (await h.prisma.user.findUniqueOrThrow({ where: { email } })).id;
}

const permissionsOf = (session: AppSession | null) => [...access.decode(session?.claims.permissions)].sort();

describe("tenant grants hold in their tenant only", () => {
  test("bob's report:export (a grant on his Acme membership) applies in Acme", async () => {
    const b = h.browser();
    await b.signIn("bob@example.com");
    const session = await b.session<AppSession>();
    assert.equal(session?.claims.tenantId, h.tenants.get("acme"));
    assert.equal(session?.claims.tenantRole, "member");
    assert.deepEqual(permissionsOf(session), ["invoice:create", "invoice:read", "report:export"]);
  });

  test("switching to Globex, where he is a member with no grant, takes report:export away; back in Acme he has it again", async () => {
    const bob = await userId("bob@example.com");
    const globex = h.tenants.get("globex")!;
    // The same role in both tenants: only the tenant claim changes on the switch.
    await h.prisma.membership.create({ data: { userId: bob, tenantId: globex, role: "member" } });
    try {
      const b = h.browser();
      await b.signIn("bob@example.com");
      assert.equal(access.can(await b.session<AppSession>(), "report:export"), true);
      const { session } = await b.update<AppSession>({ intent: "switchTenant", input: { tenantId: globex }, nonce: "g1" });
      assert.deepEqual(session?.update, { intent: "switchTenant", nonce: "g1" });
      assert.equal(session?.claims.tenantId, globex);
      assert.equal(session?.claims.tenantRole, "member");
      assert.deepEqual(permissionsOf(session), ["invoice:create", "invoice:read"]);
      assert.equal(access.can(await b.session<AppSession>(), "report:export"), false, "the next read too");
      const back = await b.update<AppSession>({ intent: "switchTenant", input: { tenantId: h.tenants.get("acme") } });
      assert.deepEqual(permissionsOf(back.session), ["invoice:create", "invoice:read", "report:export"]);
    } finally {
      await h.prisma.membership.delete({ where: { userId_tenantId: { userId: bob, tenantId: globex } } });
    }
  });

  test("with no membership at all he has no permissions: not at sign-in, not in a session that outlives his last membership", async () => {
    const bob = await userId("bob@example.com");
    const acme = h.tenants.get("acme")!;
    const signedIn = h.browser();
    await signedIn.signIn("bob@example.com");
    const row = await h.prisma.membership.delete({ where: { userId_tenantId: { userId: bob, tenantId: acme } } });
    try {
      await h.kit.sessions.reloadClaims(bob);
      const stale = await signedIn.session<AppSession>();
      assert.equal(stale?.claims.tenantId, undefined);
      assert.deepEqual(permissionsOf(stale), []);

      const fresh = h.browser();
      await fresh.signIn("bob@example.com");
      const session = await fresh.session<AppSession>();
      assert.equal(session?.claims.tenantId, undefined);
      assert.deepEqual(permissionsOf(session), []);
    } finally {
      await h.prisma.membership.create({ data: row });
      await h.kit.sessions.reloadClaims(bob);
    }
  });
});

describe("global grants hold everywhere", () => {
  test("a global grant (User.grants) applies in a tenant without a tenant grant, and with no tenant at all", async () => {
    const carol = await userId("carol@example.com");
    const dave = await userId("dave@example.com");
    await h.prisma.user.updateMany({ where: { id: { in: [carol, dave] } }, data: { grants: "report:export" } });
    try {
      const c = h.browser();
      await c.signIn("carol@example.com");
      const inGlobex = await c.session<AppSession>();
      assert.equal(inGlobex?.claims.tenantRole, "viewer");
      assert.deepEqual(permissionsOf(inGlobex), ["invoice:read", "report:export"]);

      const d = h.browser();
      await d.signIn("dave@example.com");
      const nowhere = await d.session<AppSession>();
      assert.equal(nowhere?.claims.tenantId, undefined);
      assert.deepEqual(permissionsOf(nowhere), ["report:export"]);
    } finally {
      await h.prisma.user.updateMany({ where: { id: { in: [carol, dave] } }, data: { grants: "" } });
    }
  });
});

describe("admin actions authorize from the database, not from claims", () => {
  test("changeRole's check refuses an admin demoted (or removed) after sign-in, though the token still says admin", async () => {
    const alice = await userId("alice@example.com");
    const bob = await userId("bob@example.com");
    const acme = h.tenants.get("acme")!;
    const bobInAcme = await h.prisma.membership.findUniqueOrThrow({ where: { userId_tenantId: { userId: bob, tenantId: acme } } });
    const b = h.browser();
    await b.signIn("alice@example.com");
    assert.deepEqual(await source.authorizeRoleChange(alice, acme, bobInAcme.id, "admin"), {
      ok: true,
      membership: { id: bobInAcme.id, userId: bob, role: "member" },
    });

    const aliceInAcme = { userId_tenantId: { userId: alice, tenantId: acme } };
    await h.prisma.membership.update({ where: aliceInAcme, data: { role: "member" } });
    try {
      const session = await b.session<AppSession>();
      assert.equal(session?.claims.tenantRole, "admin", "the token still says admin (inside CLAIMS_MAX_AGE)");
      assert.equal(access.can(session, "tenant:admin"), true);
      assert.deepEqual(await source.authorizeRoleChange(alice, acme, bobInAcme.id, "admin"), { ok: false, code: "not_admin" });
      assert.deepEqual(await source.authorizeRoleChange(alice, acme, bobInAcme.id, "viewer"), { ok: false, code: "not_admin" });
    } finally {
      await h.prisma.membership.update({ where: aliceInAcme, data: { role: "admin" } });
    }

    const removed = await h.prisma.membership.delete({ where: aliceInAcme });
    try {
      assert.equal((await b.session<AppSession>())?.claims.tenantRole, "admin");
      assert.deepEqual(await source.authorizeRoleChange(alice, acme, bobInAcme.id, "admin"), { ok: false, code: "not_admin" });
    } finally {
      await h.prisma.membership.create({ data: removed });
    }
  });

  test("changeRole's check: only an owner makes or unmakes owners, nobody changes their own role, other tenants' members are not found", async () => {
    const alice = await userId("alice@example.com");
    const bob = await userId("bob@example.com");
    const carol = await userId("carol@example.com");
    const initech = h.tenants.get("initech")!;
    const acme = h.tenants.get("acme")!;
    // Initech: carol owner (seed), alice admin and bob member for this test.
    const aliceRow = await h.prisma.membership.create({ data: { userId: alice, tenantId: initech, role: "admin" } });
    const bobRow = await h.prisma.membership.create({ data: { userId: bob, tenantId: initech, role: "member" } });
    try {
      const carolRow = await h.prisma.membership.findUniqueOrThrow({ where: { userId_tenantId: { userId: carol, tenantId: initech } } });
      const bobInAcme = await h.prisma.membership.findUniqueOrThrow({ where: { userId_tenantId: { userId: bob, tenantId: acme } } });
      const check = (caller: string, membershipId: string, role: string) => source.authorizeRoleChange(caller, initech, membershipId, role);

      assert.deepEqual(await check(alice, bobRow.id, "admin"), { ok: true, membership: { id: bobRow.id, userId: bob, role: "member" } });
      assert.deepEqual(await check(alice, bobRow.id, "owner"), { ok: false, code: "owner_only" });
      assert.deepEqual(await check(alice, carolRow.id, "member"), { ok: false, code: "owner_only" });
      assert.deepEqual(await check(alice, aliceRow.id, "owner"), { ok: false, code: "own_role" });
      assert.deepEqual(await check(alice, bobInAcme.id, "viewer"), { ok: false, code: "no_such_member" });
      assert.deepEqual(await check(alice, bobRow.id, "superuser"), { ok: false, code: "invalid_role" });
      assert.deepEqual(await check(bob, aliceRow.id, "viewer"), { ok: false, code: "not_admin" });
      assert.deepEqual((await check(carol, bobRow.id, "owner")).ok, true);
      assert.deepEqual((await check(carol, aliceRow.id, "member")).ok, true);
      assert.deepEqual(await check(carol, carolRow.id, "member"), { ok: false, code: "own_role" });
    } finally {
      await h.prisma.membership.deleteMany({ where: { id: { in: [aliceRow.id, bobRow.id] } } });
    }
  });

  test("signOutEverywhere's check refuses a former staff member, though the token still says staff", async () => {
    const alice = await userId("alice@example.com");
    const b = h.browser();
    await b.signIn("alice@example.com");
    assert.equal(await source.isStaff(alice), true);
    await h.prisma.user.update({ where: { id: alice }, data: { role: "user" } });
    try {
      assert.equal((await b.session<AppSession>())?.claims.role, "staff", "the token still says staff (inside CLAIMS_MAX_AGE)");
      assert.equal(await source.isStaff(alice), false);
      assert.equal(await source.isStaff("no-such-user"), false);
    } finally {
      await h.prisma.user.update({ where: { id: alice }, data: { role: "staff" } });
    }
  });
});
