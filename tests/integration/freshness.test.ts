import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { access } from "../../app/_lib/access";
import { ClaimsKitError } from "../../lib/claims-kit";
import { nextDue, phaseOf } from "../../lib/claims-kit/engine/schedule";
import { fakeClock, startHarness, type Harness } from "./harness";

const MAX_AGE = 300;
const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now, claimsMaxAge: MAX_AGE });
});
after(async () => {
  await h.close();
});

async function ids(email: string) {
  const user = await h.prisma.user.findUniqueOrThrow({ where: { email } });
  const acme = h.tenants.get("acme")!;
  return { userId: user.id, acme, membership: { userId_tenantId: { userId: user.id, tenantId: acme } } };
}

async function sidOf(b: ReturnType<Harness["browser"]>): Promise<string> {
  return h.internals.sessionId((await b.token()) as never)!;
}

describe("claims freshness", () => {
  test("a role removed in the database is gone after the max age, not before the session's moment in it", async () => {
    const { membership } = await ids("alice@example.com");
    const b = h.browser();
    await b.signIn("alice@example.com");
    await h.prisma.membership.update({ where: membership, data: { role: "member" } });
    try {
      // Each session reloads at its own moment in every max-age period (sessions signed in
      // together spread out), never more than the max age after its last load.
      const { l: loadedAt, sid } = (await b.token())!._k as { l: number; sid: string };
      const due = nextDue(loadedAt, MAX_AGE, phaseOf(sid));
      assert.ok(due > loadedAt && due <= loadedAt + MAX_AGE);
      clock.advance(due - 1 - Math.floor(clock.now() / 1000));
      assert.equal((await b.session<AppSession>())?.claims.tenantRole, "admin", "still cached before its moment");
      clock.advance(1);
      const after = await b.session<AppSession>();
      assert.equal(after?.claims.tenantRole, "member");
      assert.equal(access.can(after, "tenant:admin"), false);
    } finally {
      await h.prisma.membership.update({ where: membership, data: { role: "admin" } });
    }
  });

  test("a claims version bump applies on the very next request", async () => {
    const { userId, membership } = await ids("alice@example.com");
    const b = h.browser();
    await b.signIn("alice@example.com");
    await h.prisma.membership.update({ where: membership, data: { role: "viewer" } });
    try {
      await h.kit.sessions.reloadClaims(userId);
      const next = await b.session<AppSession>();
      assert.equal(next?.claims.tenantRole, "viewer");
      assert.deepEqual([...access.decode(next?.claims.permissions)], ["invoice:read"]);
    } finally {
      await h.prisma.membership.update({ where: membership, data: { role: "admin" } });
      await h.kit.sessions.reloadClaims(userId);
    }
  });

  test("a session read makes no query (registry state in memory, kept current by the change log), plus a coarse last-seen write (issue #14)", async () => {
    // The change log is read per process per poll interval, never per request: not counted here.
    // Under the database strategy each read is Auth.js's own Session-and-User lookup, and only that.
    const authjsLookup = /^SELECT .* FROM [`"](main|public)[`"]\.[`"](Session|User)[`"] WHERE /;
    const perRequest = (queries: string[]) => queries.filter((q) => !/FROM "KitChange"/.test(q) && !(h.strategy === "database" && authjsLookup.test(q)));
    const b = h.browser();
    await b.signIn("bob@example.com");
    await b.session();
    h.takeQueries();
    await b.session();
    await b.session();
    assert.deepEqual(perRequest(h.takeQueries()), []);

    clock.advance(301);
    // Past touchEvery (300 s) and the claims max age (300 s): one touch, then the claims reload.
    await b.session();
    const due = perRequest(h.takeQueries());
    assert.equal(due.filter((q) => /^UPDATE "UserSession" SET "lastSeenAt"/.test(q.trim())).length, 1);
    // The reload costs what the data needs (issue #26): the loaders share one User and one
    // Membership row (ctx.once), and unchanged server data is not written again.
    if (h.strategy === "jwt") {
      const from = (table: string) => due.filter((q) => new RegExp(`FROM [\`"](main|public)[\`"]\\.[\`"]${table}[\`"] WHERE`).test(q)).length;
      assert.deepEqual({ user: from("User"), membership: from("Membership") }, { user: 1, membership: 1 }, due.join("\n"));
    }
    assert.equal(due.filter((q) => /INSERT INTO .*SessionData/.test(q)).length, 0, "unchanged server data is not written again");
    if (h.strategy === "database") {
      // The reload wrote the session's state: this process reads it back once.
      await b.session();
      h.takeQueries();
    }
    await b.session();
    assert.deepEqual(perRequest(h.takeQueries()), [], "back to none");

    // A revocation through the registry reaches the cached state at once.
    await h.kit.sessions.revoke((await h.prisma.userSession.findFirstOrThrow({ where: { user: { email: "bob@example.com" }, revokedAt: null }, orderBy: { createdAt: "desc" } })).id);
    assert.equal(await b.session(), null);
  });
});

describe("a claim the rules always refuse does not freeze the others (review)", () => {
  test("a provider name with control characters, then a demotion: the demotion lands", async () => {
    const login = `m${"\u0001".repeat(59)}@evil.example`;
    const first = h.browser();
    await first.signIn(login);
    const userId = (await first.session<AppSession>())!.user.id;
    const acme = h.tenants.get("acme")!;
    await h.prisma.membership.create({ data: { userId, tenantId: acme, role: "admin" } });
    await h.prisma.user.update({ where: { id: userId }, data: { defaultTenantId: acme } });
    try {
      const b = h.browser();
      await b.signIn(login);
      assert.equal((await b.session<AppSession>())?.claims.tenantRole, "admin");
      await h.prisma.membership.delete({ where: { userId_tenantId: { userId, tenantId: acme } } });
      await h.kit.sessions.reloadClaims(userId);
      const after = await b.session<AppSession>();
      assert.equal(after?.claims.tenantRole, undefined);
      assert.equal(access.can(after, "invoice:delete"), false);
    } finally {
      await h.prisma.membership.deleteMany({ where: { userId } });
    }
  });
});

describe("offline updates", () => {
  test("every live session of the user picks up the change on its next request; null deletes", async () => {
    const { userId } = await ids("carol@example.com");
    const one = h.browser();
    const two = h.browser();
    await one.signIn("carol@example.com");
    await two.signIn("carol@example.com");
    assert.equal(await h.kit.sessions.updateOffline(userId, { credits: 42, displayName: null }), 2);
    for (const b of [one, two]) {
      const s = await b.session<AppSession>();
      assert.equal(s?.claims.credits, 42);
      assert.equal(s?.claims.displayName, undefined);
      assert.equal(s?.claims.tier, "free", "other claims untouched");
    }
    // Applied once: a later reload from the database wins again.
    await h.kit.sessions.reloadClaims(userId);
    assert.equal((await one.session<AppSession>())?.claims.credits, 0);
  });

  test("a change applied by a render that could not save its cookie is applied again", async () => {
    const { userId } = await ids("carol@example.com");
    const b = h.browser();
    await b.signIn("carol@example.com");
    await h.kit.sessions.updateOffline(userId, { credits: 77 });
    // What auth() in a Server Component does: runs jwt() and drops the result (no cookie write).
    const dropped = await h.kit.callbacks.jwt({ token: (await b.token()) as never });
    assert.equal(dropped?.credits, 77);
    assert.equal((await b.session<AppSession>())?.claims.credits, 77, "the saved session gets it too");
    // A claims-version bump supersedes the queued change: a reload from the database wins.
    await b.session();
    await h.kit.sessions.reloadClaims(userId);
    assert.equal((await b.session<AppSession>())?.claims.credits, 0);
  });

  test("an older copy of the cookie gets the offline change too, after a newer copy applied it (review item 3)", async () => {
    const { userId } = await ids("carol@example.com");
    const b = h.browser();
    await b.signIn("carol@example.com");
    const older = await b.token(); // another tab's stale response, a replay
    await h.kit.sessions.updateOffline(userId, { credits: 55 });
    assert.equal((await b.session<AppSession>())?.claims.credits, 55);
    assert.equal((await b.session<AppSession>())?.claims.credits, 55, "a saved token that carries the change");
    const stale = await h.kit.callbacks.jwt({ token: older as never });
    assert.equal(stale?.credits, 55);
    // A claims-version bump supersedes it: every copy reloads from the database.
    await h.kit.sessions.reloadClaims(userId);
    assert.equal((await h.kit.callbacks.jwt({ token: older as never }))?.credits, 0);
    assert.equal((await b.session<AppSession>())?.claims.credits, 0);
  });

  test("offline updates follow the same rules: no protected or undeclared claims", async () => {
    const { userId } = await ids("carol@example.com");
    await assert.rejects(h.kit.sessions.updateOffline(userId, { sub: "other" } as never), (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_protected");
    await assert.rejects(h.kit.sessions.updateOffline(userId, { admin: true } as never), (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_not_owned");
  });
});

describe("revocation", () => {
  test("a revoked session is signed out on its next request; the others stay", async () => {
    const { userId } = await ids("bob@example.com");
    const laptop = h.browser();
    const phone = h.browser();
    await laptop.signIn("bob@example.com");
    await phone.signIn("bob@example.com");
    const listed = (await h.kit.sessions.list(userId)).map((s) => s.sid);
    assert.ok(listed.includes(await sidOf(laptop)) && listed.includes(await sidOf(phone)));

    const phoneSid = await sidOf(phone);
    assert.equal(await h.kit.sessions.revoke(phoneSid), 1);
    assert.equal(await phone.session(), null);
    assert.equal(phone.jar.get("authjs.session-token"), undefined, "cookie cleared");
    assert.equal((await laptop.session<AppSession>())?.user.email, "bob@example.com");
    assert.equal((await h.kit.sessions.list(userId)).some((s) => s.sid === phoneSid), false, "no longer listed");
  });

  test("sign out all other sessions keeps only the current one", async () => {
    const { userId } = await ids("dave@example.com");
    const [a, b, c] = [h.browser(), h.browser(), h.browser()];
    for (const x of [a, b, c]) await x.signIn("dave@example.com");
    const keep = await sidOf(a);
    assert.equal(await h.kit.sessions.revokeAll(userId, { except: keep }), 2);
    assert.equal(await b.session(), null);
    assert.equal(await c.session(), null);
    assert.notEqual(await a.session(), null);
    assert.deepEqual((await h.kit.sessions.list(userId)).map((s) => s.sid), [keep]);
  });

  test("signing out revokes the session in the registry", async () => {
    const { userId } = await ids("dave@example.com");
    const b = h.browser();
    await b.signIn("dave@example.com");
    const sid = await sidOf(b);
    const csrfToken = await b.csrf();
    await b.fetch("/api/auth/signout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken }) });
    assert.equal((await h.kit.sessions.list(userId)).some((s) => s.sid === sid), false);
  });

  test("signing in again ends the previous session: a copy of the old cookie stops working (review item 10)", async () => {
    const { userId } = await ids("bob@example.com");
    const b = h.browser();
    await b.signIn("bob@example.com");
    const first = await b.token();
    await b.signIn("bob@example.com"); // the re-auth watcher, or a second sign-in in the same browser
    const second = await b.token();
    assert.notEqual(h.internals.sessionId(second as never), h.internals.sessionId(first as never));
    assert.equal(await h.kit.callbacks.jwt({ token: first as never }), null);
    const live = (await h.kit.sessions.list(userId)).map((s) => s.sid);
    assert.equal(live.includes(h.internals.sessionId(first as never)!), false);
    assert.equal(live.includes(h.internals.sessionId(second as never)!), true);
  });

  test("bumping the global epoch signs every session out", async () => {
    const a = h.browser();
    const b = h.browser();
    await a.signIn("alice@example.com");
    await b.signIn("erin@example.com");
    await h.kit.sessions.bumpEpoch();
    assert.equal(await a.session(), null);
    assert.equal(await b.session(), null);
    const fresh = h.browser();
    await fresh.signIn("alice@example.com");
    assert.notEqual(await fresh.session(), null, "new sign-ins work under the new epoch");
  });
});

describe("server helpers and revoked sessions", () => {
  test("kit.isActive is false for a revoked session's still-decodable cookie", async () => {
    const b = h.browser();
    await b.signIn("erin@example.com");
    const token = await b.token();
    assert.equal(await h.internals.isActive(token as never), true);
    await h.kit.sessions.revoke(h.internals.sessionId(token as never)!);
    assert.equal(await h.internals.isActive(token as never), false);
    assert.equal(await h.internals.isActive(null), false);
  });
});
