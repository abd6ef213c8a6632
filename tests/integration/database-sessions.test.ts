// Auth.js's database strategy with the kit (issue #25): the cookie is an opaque session token, the
// kit's side of the session lives with its registry row, and the same plugins, intents, refresh and
// revocation work. What only this strategy has is tested here (the shared suites run in both
// strategies: KIT_TEST_STRATEGY=database).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { fakeClock, startHarness, type Harness } from "./harness";
import { sessionIdOfToken } from "../../lib/claims-kit/engine/meta";

const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ strategy: "database", clock: clock.now });
});
after(async () => {
  await h.close();
});

const authRows = async (email: string) => h.prisma.session.count({ where: { user: { email } } });
const kitRow = async (email: string) => h.prisma.userSession.findFirstOrThrow({ where: { user: { email }, revokedAt: null }, orderBy: { createdAt: "desc" } });

describe("database sessions", () => {
  test("the cookie is Auth.js's session token; the session carries the kit's claims and nothing else of the user row", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    const cookie = b.jar.get("authjs.session-token")!;
    assert.doesNotMatch(cookie, /^eyJ/, "not a JWT");
    assert.equal(await h.prisma.session.count({ where: { sessionToken: cookie } }), 1);
    const session = await b.session<AppSession & { user: Record<string, unknown> }>();
    assert.equal(session?.claims.tenantRole, "admin");
    assert.deepEqual(Object.keys(session!.user).sort(), ["email", "id", "image", "name"].filter((k) => session!.user[k] !== undefined).sort());
    assert.equal(JSON.stringify(session).includes(cookie), false, "the session token never reaches the client");
    // The kit's side: stored with the registry row, named after the token's hash, never the token.
    const row = await kitRow("alice@example.com");
    assert.ok(row.state && row.authSessionId);
    assert.equal(row.state.includes(cookie), false);
    assert.equal((JSON.parse(row.state) as { auth_time?: unknown }).auth_time !== undefined, true, "the id_token's auth_time, kept from sign-in");
  });

  test("revoking the session ends its Auth.js row: the next read is signed out", async () => {
    const b = h.browser();
    await b.signIn("bob@example.com");
    assert.ok(await b.session());
    const before = await authRows("bob@example.com");
    await h.kit.sessions.revoke((await kitRow("bob@example.com")).id, { by: "admin" });
    assert.equal(await authRows("bob@example.com"), before - 1);
    assert.equal(await b.session(), null);
  });

  test("signing everyone out (a new epoch) ends each session on its next read, Auth.js row included", async () => {
    const b = h.browser();
    await b.signIn("carol@example.com");
    assert.ok(await b.session());
    await h.kit.sessions.bumpEpoch();
    assert.equal(await b.session(), null);
    assert.equal(await h.prisma.session.count({ where: { sessionToken: b.jar.get("authjs.session-token") ?? "" } }), 0);
  });

  test("a refused update leaves the stored state exactly as it was", async () => {
    const b = h.browser();
    await b.signIn("bob@example.com");
    await b.session();
    const before = (await kitRow("bob@example.com")).state;
    const { session } = await b.update<AppSession>({ intent: "switchTenant", input: { tenantId: h.tenants.get("initech") } });
    assert.equal(session?.update?.code, "not_a_member");
    const after = JSON.parse((await kitRow("bob@example.com")).state!) as Record<string, unknown>;
    const { _k: a, ...restAfter } = after;
    const { _k: b2, ...restBefore } = JSON.parse(before!) as Record<string, unknown>;
    assert.deepEqual(restAfter, restBefore, "claims unchanged");
    assert.equal((a as { u?: { c?: string } }).u?.c, "not_a_member");
    void b2;
  });

  test("an update racing a read that reloads: both land (the update laid over the newer state, never lost)", async () => {
    const b = h.browser();
    await b.signIn("alice@example.com");
    await b.session();
    clock.advance(301); // every claim due for its max-age reload on the next read
    const [read, switched] = await Promise.all([b.session<AppSession>(), b.update<AppSession>({ intent: "switchTenant", input: { tenantId: h.tenants.get("globex") } })]);
    assert.ok(read);
    assert.equal(switched.session?.update?.code, undefined);
    const next = await b.session<AppSession>();
    assert.equal(next?.claims.tenantId, h.tenants.get("globex"), "the switch stands");
    assert.equal(next?.claims.tenantRole, "member");
  });

  test("a Session row the kit has not seen (created before it, or by another app) gets claims on its first read", async () => {
    const b = h.browser();
    await b.signIn("dave@example.com");
    const token = b.jar.get("authjs.session-token")!;
    // Forget the kit's side, as if the row predated the kit.
    const row = await kitRow("dave@example.com");
    await h.prisma.userSession.delete({ where: { id: row.id } });
    await h.kit.sessions.reloadClaims(row.userId); // drops any cached state in this process
    const session = await b.session<AppSession>();
    assert.equal(session?.user.email, "dave@example.com");
    assert.equal(session?.claims.role, "user");
    assert.equal(await h.prisma.session.count({ where: { sessionToken: token } }), 1);
  });

  test("a Session row the kit has not seen, read by two requests at once (a page and its useSession fetch): still signed in", async () => {
    // The first read records the kit's session as a sign-in would, and a sign-in ends the session
    // the browser already had: the cookie's own session. A second read that found the row the first
    // had just recorded revoked it as "replaced" (deleting the Auth.js row: signed out for good);
    // one that got there before failed to record it a second time (signed out for that read).
    const b = h.browser();
    await b.signIn("dave@example.com");
    const token = b.jar.get("authjs.session-token")!;
    const row = await h.prisma.userSession.findUniqueOrThrow({ where: { id: await sessionIdOfToken(token) } });
    await h.prisma.userSession.delete({ where: { id: row.id } });
    await h.kit.sessions.reloadClaims(row.userId);
    const both = await Promise.all([b.session<AppSession>(), b.session<AppSession>()]);
    assert.deepEqual(both.map((s) => s?.user.email), ["dave@example.com", "dave@example.com"], "both reads signed in");
    assert.equal((await b.session<AppSession>())?.user.email, "dave@example.com", "signed in");
    assert.equal(await h.prisma.session.count({ where: { sessionToken: token } }), 1, "the Auth.js row is kept");
    assert.equal((await h.prisma.userSession.findUniqueOrThrow({ where: { id: row.id } })).revokedAt, null);
  });

  test("signing out deletes the Auth.js row and ends the kit's session", async () => {
    const b = h.browser();
    await b.signIn("carol@example.com");
    const row = await kitRow("carol@example.com");
    const csrfToken = await b.csrf();
    await b.fetch("/api/auth/signout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken }) });
    assert.equal(await b.session(), null);
    assert.notEqual((await h.prisma.userSession.findUniqueOrThrow({ where: { id: row.id } })).revokedAt, null);
  });

  test("a steady-state read runs Auth.js's own statements and nothing more (the session with its user)", async () => {
    const b = h.browser();
    await b.signIn("dave@example.com");
    await b.session();
    h.takeQueries();
    for (let i = 0; i < 5; i++) assert.ok(await b.session());
    const statements = h.takeQueries();
    assert.equal(statements.length, 10, statements.join("\n"));
    assert.deepEqual(new Set(statements.map((q) => /FROM\s+(?:[`"]?\w+[`"]?\.)?[`"]?(\w+)/i.exec(q)?.[1] ?? q)), new Set(["Session", "User"]));
  });
});
