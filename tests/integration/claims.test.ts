import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { access } from "../../app/_lib/access";
import { startHarness, type Harness } from "./harness";

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

async function userId(email: string): Promise<string> {
  return (await h.prisma.user.findUniqueOrThrow({ where: { email } })).id;
}

describe("sign-in through real Auth.js, the real database and the OIDC provider", () => {
  test("an admin gets id, role, tenant, tenant role, permissions and billing claims", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    const session = await b.session<AppSession>();
    assert.ok(session);
    assert.equal(session.user.id, await userId("alice@example.com"));
    assert.equal(session.user.email, "alice@example.com");
    assert.deepEqual(
      { ...session.claims, permissions: undefined },
      { role: "staff", tenantId: h.tenants.get("acme"), tenantRole: "admin", tier: "pro", credits: 120, displayName: "Alice Admin", groups: ["users"], permissions: undefined },
    );
    assert.deepEqual([...access.decode(session.claims.permissions)].sort(), [...access.forRole("admin")].sort());
    assert.equal(session.errors, undefined);

    const token = await b.token();
    assert.equal(token?.iss, undefined, "no iss unless AUTH_CLAIMS_ISSUER asks for one (cookie bytes)");
    assert.equal(token?.picture, undefined, "no null claims");
    assert.match(String((token?._k as { sid?: string } | undefined)?.sid), /^[A-Za-z0-9_-]{22}$/, "a compact session id");
    assert.equal(token?.sub, session.user.id);
    // Server-side data is in the database, not in the token or the session.
    assert.equal(token?.tenants, undefined);
    assert.equal((session.claims as Record<string, unknown>).tenants, undefined);
    const data = (await h.internals.readServerData(token)) as { tenants?: Array<{ slug: string; role: string }> };
    assert.deepEqual(data.tenants?.map((t) => [t.slug, t.role]), [["acme", "admin"], ["globex", "member"]]);
  });

  test("a member gets the member permissions plus their grant in that tenant", async () => {
    const b = h.browser();
    await b.signIn("bob@example.com");
    const session = await b.session<AppSession>();
    assert.equal(session?.claims.tenantRole, "member");
    assert.deepEqual([...access.decode(session?.claims.permissions)].sort(), ["invoice:create", "invoice:read", "report:export"]);
    assert.equal(access.can(session, "invoice:delete"), false);
  });

  test("a user whose default tenant is one they no longer belong to never gets it", async () => {
    const dave = await userId("dave@example.com");
    await h.prisma.user.update({ where: { id: dave }, data: { defaultTenantId: h.tenants.get("acme") } });
    const b = h.browser();
    await b.signIn("dave@example.com");
    const session = await b.session<AppSession>();
    assert.equal(session?.claims.tenantId, undefined);
    assert.equal(session?.claims.tenantRole, undefined);
    assert.equal(access.decode(session?.claims.permissions).size, 0);
  });

  test("a user unknown to the seed signs up and gets default claims", async () => {
    const b = h.browser();
    await b.signIn("erin@example.com");
    const session = await b.session<AppSession>();
    assert.equal(session?.user.email, "erin@example.com");
    assert.deepEqual({ ...session?.claims, permissions: undefined }, { role: "user", tier: "free", credits: 0, displayName: "Erin", groups: ["users"], permissions: undefined });
  });
});

describe("tenant switch through useSession().update()", () => {
  test("switching to a tenant the user belongs to changes tenant, role and permissions", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    const { status, session } = await b.update<AppSession>({ intent: "switchTenant", input: { tenantId: h.tenants.get("globex") }, nonce: "n1" });
    assert.equal(status, 200);
    assert.equal(session?.claims.tenantId, h.tenants.get("globex"));
    assert.equal(session?.claims.tenantRole, "member");
    assert.equal(access.can(session, "tenant:admin"), false);
    assert.deepEqual(session?.update, { intent: "switchTenant", nonce: "n1" });
    assert.deepEqual((await b.session<AppSession>())?.claims, session?.claims, "the next read sees the switch");
  });

  test("a forged tenant id is refused and the session stays as it was", async () => {
    const b = h.browser();
    await b.signIn("bob@example.com");
    const before = await b.session<AppSession>();
    const { session } = await b.update<AppSession>({ intent: "switchTenant", input: { tenantId: h.tenants.get("globex") }, nonce: "n2" });
    assert.deepEqual(session?.update, { intent: "switchTenant", nonce: "n2", code: "not_a_member" });
    assert.deepEqual(session?.claims, before?.claims);
    const direct = await b.update<AppSession>({ tenantId: h.tenants.get("globex"), tenantRole: "owner" });
    assert.equal(direct.session?.update?.code, "update_malformed");
    assert.deepEqual(direct.session?.claims, before?.claims);
  });
});

describe("the sign-in callback never sees the session cookie (review: account linking)", () => {
  test("a revoked cookie cannot attach another provider identity to its user", async () => {
    const bobId = (await h.prisma.user.findUniqueOrThrow({ where: { email: "bob@example.com" } })).id;
    const victim = h.browser();
    await victim.signIn("bob@example.com");
    const stolen = victim.jar.get("authjs.session-token")!;
    await h.kit.sessions.revokeAll(bobId);
    const thief = h.browser();
    thief.jar.set("authjs.session-token", stolen);
    await thief.signIn("mallory@evil.example");
    const thiefSession = await thief.session<AppSession>();
    assert.ok(thiefSession);
    assert.notEqual(thiefSession.user.id, bobId);
    assert.equal(await h.prisma.account.count({ where: { userId: bobId, providerAccountId: { contains: "mallory" } } }), 0);
    // And later, with no cookie at all, the attacker's identity is still not bob.
    const later = h.browser();
    await later.signIn("mallory@evil.example");
    assert.notEqual((await later.session<AppSession>())?.user.id, bobId);
  });

  test("nor does a copy of it under another name Auth.js reads as the session (authjs.session-tokenX, …-old, .x)", async () => {
    const bobId = (await h.prisma.user.findUniqueOrThrow({ where: { email: "bob@example.com" } })).id;
    const victim = h.browser();
    await victim.signIn("bob@example.com");
    const stolen = victim.jar.get("authjs.session-token")!;
    await h.kit.sessions.revokeAll(bobId);
    for (const [name, login] of [["authjs.session-tokenX", "mal1@evil.example"], ["authjs.session-token-old", "mal2@evil.example"], ["authjs.session-token.x", "mal3@evil.example"]] as const) {
      const thief = h.browser();
      thief.jar.set(name, stolen);
      await thief.signIn(login);
      assert.notEqual((await thief.session<AppSession>())?.user.id, bobId, name);
    }
    assert.equal(await h.prisma.account.count({ where: { userId: bobId, providerAccountId: { contains: "evil" } } }), 0);
  });

  test("a live cookie left signed in on a shared computer does not absorb the next person's identity", async () => {
    const carolId = (await h.prisma.user.findUniqueOrThrow({ where: { email: "carol@example.com" } })).id;
    const shared = h.browser();
    await shared.signIn("carol@example.com");
    await shared.signIn("trudy@evil.example");
    const session = await shared.session<AppSession>();
    assert.ok(session);
    assert.notEqual(session.user.id, carolId);
    assert.equal(await h.prisma.account.count({ where: { userId: carolId, providerAccountId: { contains: "trudy" } } }), 0);
  });
});

describe("linking by email", () => {
  test("an unverified email at the provider cannot take over an existing user", async () => {
    const b = h.browser();
    await assert.rejects(b.signIn("alice+unverified@example.com"), /AccessDenied/);
    assert.equal(await b.session(), null);
    const alice = await h.prisma.user.findUniqueOrThrow({ where: { email: "alice@example.com" }, include: { accounts: true } });
    assert.equal(alice.accounts.some((a) => a.providerAccountId.includes("unverified")), false);
  });

  test("an unverified address that differs only in case cannot take over an existing user", async () => {
    const b = h.browser();
    // The provider sends "Alice@example.com" (unverified); Auth.js lower-cases it before linking.
    await assert.rejects(b.signIn("Alice+unverified@example.com"), /AccessDenied/);
    assert.equal(await b.session(), null);
    const alice = await h.prisma.user.findUniqueOrThrow({ where: { email: "alice@example.com" }, include: { accounts: true } });
    assert.equal(alice.accounts.some((a) => a.providerAccountId.toLowerCase().includes("unverified")), false);
    assert.equal(await h.prisma.user.count({ where: { email: { in: ["Alice@example.com", "alice@example.com"] } } }), 1);
  });

  test("a verified address that differs only in ASCII case signs in as the existing user", async () => {
    const b = h.browser();
    await b.signIn("Bob@example.com");
    const session = await b.session<{ user: { email: string } }>();
    assert.equal(session?.user.email, "bob@example.com");
  });

  test("an address whose lower-casing folds a non-ASCII character (Kelvin sign) is refused, verified or not", async () => {
    await h.prisma.user.upsert({ where: { email: "kim@example.com" }, update: {}, create: { email: "kim@example.com", name: "Kim" } });
    const b = h.browser();
    await assert.rejects(b.signIn("\u212Aim@example.com"), /AccessDenied/);
    assert.equal(await b.session(), null);
    const kim = await h.prisma.user.findUniqueOrThrow({ where: { email: "kim@example.com" }, include: { accounts: true } });
    assert.equal(kim.accounts.length, 0);
  });
});
