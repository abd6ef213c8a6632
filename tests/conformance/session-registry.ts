// One conformance suite for every SessionRegistry: what the engine relies on, run against the memory
// registry and cachedSessionRegistry over it (tests/unit/stores/session-registry.test.ts), and the
// Prisma registry and the cache over it on SQLite and PostgreSQL
// (tests/integration/session-registry.test.ts). A registry an app brings (Redis, another ORM) can
// run it the same way.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ProviderSession, SessionRegistry, SessionState } from "../../lib/claims-kit/plugin";
import { parsePatch, withValues } from "../../lib/claims-kit/engine/patches";

/** One registry under test, over a store of its own (or one shared by the suite's runs). */
export interface RegistryUnderTest {
  registry: SessionRegistry;
  /** A new user the registry may hold sessions of (a row in the User table for the Prisma registry). */
  newUser(): Promise<string>;
  /** How a session's provider ids are stored, where the registry stores them in bounded columns. */
  storedProvider?(sid: string): Promise<{ issuer: string | null; subject: string | null; sid: string | null }>;
  close?(): Promise<void>;
}

/** The state every registry answers (a cache adds its log position; a database-strategy registry, the stored state). */
const core = (state: SessionState | null) => state && { revoked: state.revoked, claimsVersion: state.claimsVersion, epoch: state.epoch, lastSeenAt: state.lastSeenAt, pendingPatch: state.pendingPatch, userId: state.userId };

let counter = 0;
/** Session ids unique across runs sharing one database. */
const sid = (name: string) => `${name}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

const ISSUER = "https://idp.example";
const provider = (subject: string, providerSid: string | null = null, issuer = ISSUER): ProviderSession => ({ issuer, subject, sid: providerSid });

/**
 * Register the suite under `name`: `open` is called once before its tests, and what it returns is
 * closed after them.
 */
export function sessionRegistryConformance(name: string, open: () => Promise<RegistryUnderTest>): void {
  describe(`${name}: SessionRegistry conformance`, () => {
    let subject: RegistryUnderTest;
    let r: SessionRegistry;
    before(async () => {
      subject = await open();
      r = subject.registry;
    });
    after(async () => {
      await subject.close?.();
    });

    test("create returns the user's claims version and the epoch; check reads the session back", async () => {
      const user = await subject.newUser();
      const s = sid("create");
      const created = await r.create({ sid: s, userId: user, userAgent: "Firefox", now: 1000 });
      assert.equal(created.claimsVersion, 0);
      assert.equal(typeof created.epoch, "string");
      assert.deepEqual(core(await r.check(s)), { revoked: false, claimsVersion: 0, epoch: created.epoch, lastSeenAt: 1000, pendingPatch: null, userId: user });
      assert.equal((await r.check(s))?.state ?? null, null, "no database-strategy state until one is written");
    });

    test("writeState (database strategy): compare-and-set on the stored text, only while the session is live", async (t) => {
      if (!r.writeState) return t.skip("this registry does not keep database-strategy state");
      const user = await subject.newUser();
      const s = sid("state");
      await r.create({ sid: s, userId: user, now: 1000 });
      assert.equal(await r.writeState(s, '{"v":1}', "{}"), false, "expected a state where there is none");
      assert.equal(await r.writeState(s, '{"v":1}', null), true);
      assert.equal((await r.check(s))?.state, '{"v":1}');
      assert.equal(await r.writeState(s, '{"v":2}', null), false, "another writer got there first");
      assert.equal(await r.writeState(s, '{"v":2}', '{"v":1}'), true);
      assert.equal((await r.check(s))?.state, '{"v":2}');
      await r.revoke({ sid: s }, 1001);
      assert.equal(await r.writeState(s, '{"v":3}', '{"v":2}'), false, "a revoked session is not written");
      assert.equal(await r.writeState(sid("nobody"), '{"v":1}', null), false, "nor an unknown one");
    });

    test("an unknown session checks as null", async () => {
      assert.equal(await r.check(sid("nobody")), null);
    });

    test("touch moves lastSeenAt and nothing else", async () => {
      const user = await subject.newUser();
      const s = sid("touch");
      await r.create({ sid: s, userId: user, now: 1000 });
      const before = core(await r.check(s));
      await r.touch(s, 1500);
      assert.deepEqual(core(await r.check(s)), { ...before!, lastSeenAt: 1500 });
      await r.touch(sid("nobody"), 1500); // an unknown session is no error
    });

    test("list: the user's live sessions newest first; with ended, the most recently ended first, at most limit", async () => {
      const [user, other] = [await subject.newUser(), await subject.newUser()];
      const [a, b, c] = [sid("list-a"), sid("list-b"), sid("list-c")];
      await r.create({ sid: a, userId: user, userAgent: "A", now: 1000, provider: provider("sub-1", "idp-sid-1") });
      await r.create({ sid: b, userId: user, userAgent: null, now: 1001 });
      await r.create({ sid: c, userId: user, now: 1002 });
      await r.create({ sid: sid("list-other"), userId: other, now: 1003 });
      const live = await r.list(user);
      assert.deepEqual(live.map((s) => s.sid), [c, b, a]);
      assert.deepEqual(live[2], { sid: a, userId: user, userAgent: "A", createdAt: 1000, lastSeenAt: 1000, revokedAt: null, providerSid: "idp-sid-1", endedBy: null });
      assert.equal(await r.revoke({ sid: a }, 1100, "admin"), 1);
      assert.equal(await r.revoke({ sid: c }, 1200, "user"), 1);
      assert.deepEqual((await r.list(user)).map((s) => s.sid), [b]);
      const ended = await r.list(user, { ended: true });
      assert.deepEqual(ended.map((s) => [s.sid, s.revokedAt, s.endedBy]), [[c, 1200, "user"], [a, 1100, "admin"]]);
      assert.deepEqual((await r.list(user, { ended: true, limit: 1 })).map((s) => s.sid), [c]);
    });

    test("revoke by session id: once, recording who; the session checks as revoked", async () => {
      const user = await subject.newUser();
      const s = sid("revoke");
      await r.create({ sid: s, userId: user, now: 1000 });
      assert.equal(await r.revoke({ sid: s }, 1001, "user"), 1);
      assert.equal(await r.revoke({ sid: s }, 1002, "admin"), 0, "an ended session is not ended again");
      assert.equal((await r.check(s))?.revoked, true);
      assert.deepEqual((await r.list(user, { ended: true })).map((x) => [x.revokedAt, x.endedBy]), [[1001, "user"]]);
      assert.equal(await r.revoke({ sid: sid("nobody") }, 1003), 0);
    });

    test("revoke by user, but one: the others end, the one kept and other users' sessions do not", async () => {
      const [user, other] = [await subject.newUser(), await subject.newUser()];
      const [keep, a, b, theirs] = [sid("keep"), sid("a"), sid("b"), sid("theirs")];
      for (const [s, u] of [[keep, user], [a, user], [b, user], [theirs, other]] as const) await r.create({ sid: s, userId: u, now: 1000 });
      assert.equal(await r.revoke({ userId: user, except: keep }, 1001, "user"), 2);
      assert.deepEqual(await Promise.all([keep, a, b, theirs].map(async (s) => (await r.check(s))?.revoked)), [false, true, true, false]);
      assert.equal(await r.revoke({ userId: user }, 1002, "admin"), 1, "without except, every live session");
      assert.equal((await r.check(keep))?.revoked, true);
    });

    test("revoke by provider session, subject, or both; the issuer alone names nothing", async () => {
      const user = await subject.newUser();
      const [one, two, three, elsewhere] = [sid("p1"), sid("p2"), sid("p3"), sid("p4")];
      await r.create({ sid: one, userId: user, now: 1000, provider: provider("alice", "idp-1") });
      await r.create({ sid: two, userId: user, now: 1000, provider: provider("alice", "idp-2") });
      await r.create({ sid: three, userId: user, now: 1000, provider: provider("alice", null) });
      await r.create({ sid: elsewhere, userId: user, now: 1000, provider: provider("alice", "idp-1", "https://other.example") });
      assert.equal(await r.revoke({ issuer: ISSUER }, 1001, "provider"), 0, "never every session of the issuer");
      assert.equal(await r.revoke({ issuer: ISSUER, providerSid: "idp-1", subject: "bob" }, 1001, "provider"), 0, "both given: both must match");
      assert.equal(await r.revoke({ issuer: ISSUER, providerSid: "idp-1", subject: "alice" }, 1001, "provider"), 1);
      assert.equal(await r.revoke({ issuer: ISSUER, providerSid: "idp-2" }, 1002, "provider"), 1);
      assert.deepEqual(await Promise.all([one, two, three, elsewhere].map(async (s) => (await r.check(s))?.revoked)), [true, true, false, false]);
      assert.equal(await r.revoke({ issuer: ISSUER, subject: "alice" }, 1003, "provider"), 1, "by subject: every live session of it at this issuer");
      assert.equal((await r.check(three))?.revoked, true);
      assert.equal((await r.check(elsewhere))?.revoked, false);
      assert.deepEqual((await r.list(user, { ended: true })).map((s) => s.endedBy), ["provider", "provider", "provider"]);
    });

    test("provider ids over 255 characters match exactly (stored hashed where columns are bounded), never by a shared prefix", async () => {
      const user = await subject.newUser();
      const [longIssuer, longSubject, longSid] = [`https://idp.example/${"i".repeat(300)}`, `user-${"s".repeat(400)}`, `sid-${"x".repeat(1000)}`];
      const [s, twin] = [sid("long"), sid("twin")];
      await r.create({ sid: s, userId: user, now: 1000, provider: { issuer: longIssuer, subject: longSubject, sid: longSid } });
      // Another sign-in whose ids share the first 255 characters (and more) of the first one's.
      await r.create({ sid: twin, userId: user, now: 1000, provider: { issuer: longIssuer, subject: `${longSubject}2`, sid: `${longSid}2` } });
      const stored = await subject.storedProvider?.(s);
      if (stored) {
        for (const value of [stored.issuer, stored.subject, stored.sid]) assert.match(value ?? "", /^sha256:[\w-]{43}$/, "a long id is stored as its hash, never cut");
      }
      assert.equal((await r.list(user)).find((x) => x.sid === s)?.sid, s);
      assert.equal(await r.revoke({ issuer: longIssuer, providerSid: longSid.slice(0, 255) }, 1001, "provider"), 0);
      assert.equal(await r.revoke({ issuer: longIssuer, subject: longSubject.slice(0, 255) }, 1001, "provider"), 0);
      assert.equal(await r.revoke({ issuer: longIssuer, providerSid: longSid }, 1001, "provider"), 1);
      assert.equal(await r.revoke({ issuer: longIssuer, subject: `${longSubject}2` }, 1002, "provider"), 1);
      assert.deepEqual([(await r.check(s))?.revoked, (await r.check(twin))?.revoked], [true, true]);
    });

    test("review round 4: a provider subject that is literally the stored form of another user's long subject ends only its own sessions", async () => {
      const { createHash } = await import("node:crypto");
      const victimSub = `victim-${"v".repeat(300)}`;
      const forged = `sha256:${createHash("sha256").update(victimSub, "utf8").digest("base64url")}`;
      const [victim, attacker] = [await subject.newUser(), await subject.newUser()];
      const [v, a] = [sid("victim"), sid("attacker")];
      await r.create({ sid: v, userId: victim, now: 1000, provider: provider(victimSub) });
      await r.create({ sid: a, userId: attacker, now: 1000, provider: provider(forged, forged) });
      assert.equal(await r.revoke({ issuer: ISSUER, subject: forged }, 1001, "provider"), 1);
      assert.equal((await r.check(v))?.revoked, false, "the attacker's logout ended the victim's session");
      assert.equal((await r.check(a))?.revoked, true);
      assert.equal(await r.revoke({ issuer: ISSUER, providerSid: forged }, 1001, "provider"), 0);
      assert.equal(await r.revoke({ issuer: ISSUER, subject: victimSub }, 1002, "provider"), 1);
      assert.equal((await r.check(v))?.revoked, true);
    });

    test("bumpClaimsVersion: every session of the user (and its next sign-in) sees the new version, other users' do not", async () => {
      const [user, other] = [await subject.newUser(), await subject.newUser()];
      const [a, b, theirs] = [sid("v-a"), sid("v-b"), sid("v-theirs")];
      for (const [s, u] of [[a, user], [b, user], [theirs, other]] as const) await r.create({ sid: s, userId: u, now: 1000 });
      await r.bumpClaimsVersion(user);
      await r.bumpClaimsVersion(user);
      assert.deepEqual(await Promise.all([a, b, theirs].map(async (s) => (await r.check(s))?.claimsVersion)), [2, 2, 0]);
      assert.equal((await r.create({ sid: sid("v-new"), userId: user, now: 1001 })).claimsVersion, 2);
    });

    test("rewritePatch by session: next gets the stored text; undefined or the same text writes nothing; null clears", async () => {
      const user = await subject.newUser();
      const s = sid("patch");
      await r.create({ sid: s, userId: user, now: 1000 });
      const seen: Array<string | null> = [];
      assert.equal(await r.rewritePatch({ sid: s }, (current) => (seen.push(current), "one")), 1);
      assert.equal(await r.rewritePatch({ sid: s }, (current) => (seen.push(current), undefined)), 0);
      assert.equal(await r.rewritePatch({ sid: s }, (current) => (seen.push(current), current)), 0);
      assert.equal((await r.check(s))?.pendingPatch, "one");
      assert.equal(await r.rewritePatch({ sid: s }, () => null), 1);
      assert.equal((await r.check(s))?.pendingPatch, null);
      assert.deepEqual(seen, [null, "one", "one"]);
      assert.equal(await r.rewritePatch({ sid: sid("nobody") }, () => "x"), 0);
    });

    test("rewritePatch by user: each live session from its own text; revoked sessions are not rewritten", async () => {
      const [user, other] = [await subject.newUser(), await subject.newUser()];
      const [a, b, ended, theirs] = [sid("u-a"), sid("u-b"), sid("u-ended"), sid("u-theirs")];
      for (const [s, u] of [[a, user], [b, user], [ended, user], [theirs, other]] as const) await r.create({ sid: s, userId: u, now: 1000 });
      await r.rewritePatch({ sid: a }, () => "a");
      await r.revoke({ sid: ended }, 1001);
      assert.equal(await r.rewritePatch({ sid: ended }, () => "x"), 0, "a revoked session is not rewritten by id");
      assert.equal(await r.rewritePatch({ userId: user }, (current) => `${current ?? ""}+`), 2);
      assert.deepEqual(await Promise.all([a, b, ended, theirs].map(async (s) => (await r.check(s))?.pendingPatch)), ["a+", "+", null, null]);
    });

    test("rewritePatch with claimsVersion writes only while the user's claims version is still that one", async () => {
      const user = await subject.newUser();
      const [a, b] = [sid("cv-a"), sid("cv-b")];
      await r.create({ sid: a, userId: user, now: 1000 });
      await r.create({ sid: b, userId: user, now: 1000 });
      assert.equal(await r.rewritePatch({ sid: a }, () => "v0", { claimsVersion: 0 }), 1);
      await r.bumpClaimsVersion(user);
      assert.equal(await r.rewritePatch({ sid: a }, () => "stale", { claimsVersion: 0 }), 0, "derived before the bump: not written");
      assert.equal(await r.rewritePatch({ userId: user }, () => "stale", { claimsVersion: 0 }), 0);
      assert.deepEqual([(await r.check(a))?.pendingPatch, (await r.check(b))?.pendingPatch], ["v0", null]);
      assert.equal(await r.rewritePatch({ userId: user }, () => "v1", { claimsVersion: 1 }), 2);
      assert.deepEqual([(await r.check(a))?.pendingPatch, (await r.check(b))?.pendingPatch], ["v1", "v1"]);
    });

    test("review round 4: concurrent writers to one session's pending patch lose none of their changes", async () => {
      const user = await subject.newUser();
      const s = sid("race");
      await r.create({ sid: s, userId: user, now: 1000 });
      const writers = 40;
      const written = await Promise.all(Array.from({ length: writers }, (_, i) => r.rewritePatch({ sid: s }, (current) => withValues(current, { [`claim${i}`]: i }, 1000).text)));
      const names = Object.keys(parsePatch((await r.check(s))!.pendingPatch)!.values);
      assert.equal(names.length, writers, `${writers - names.length} change(s) lost; rewritePatch said ${written.filter((n) => n === 0).length} wrote nothing`);
    });

    test("bumpEpoch: a new epoch every session and every later sign-in sees", async () => {
      const user = await subject.newUser();
      const s = sid("epoch");
      const { epoch: first } = await r.create({ sid: s, userId: user, now: 1000 });
      const second = await r.bumpEpoch();
      assert.notEqual(second, first);
      assert.equal((await r.check(s))?.epoch, second);
      assert.equal((await r.create({ sid: sid("epoch-new"), userId: user, now: 1001 })).epoch, second);
      const third = await r.bumpEpoch();
      assert.notEqual(third, second);
      assert.equal((await r.check(s))?.epoch, third);
    });
  });
}
