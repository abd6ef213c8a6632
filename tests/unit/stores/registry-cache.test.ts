// cachedSessionRegistry (issue #14): session reads from memory, invalidated through the shared
// change log; two "processes" share one registry and one log here.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cachedSessionRegistry, inProcessChangeFeed, type ChangeFeed } from "@/lib/claims-kit/plugin";
import { hintFrom, memoryChangeLog, sharedRegistry } from "../fixtures";

/** A shared registry (the database) counting reads, with userIds; one check can be held. */
function database(options: { tellsSeq?: boolean } = {}) {
  let release: (() => void) | undefined;
  const { registry, calls } = sharedRegistry(async () => {
    if (release === undefined) return;
    await new Promise<void>((resolve) => (release = resolve));
    release = undefined;
  });
  const changes = memoryChangeLog(options);
  return { registry, changes, calls, slowNextCheck: () => void (release = () => undefined), releaseCheck: () => release?.() };
}

const session = (sid: string, userId: string) => ({ sid, userId, now: 1000 });
/** A feed that reaches every subscribed "process" (as LISTEN/NOTIFY does). */
function sharedFeed(): ChangeFeed {
  const feed = inProcessChangeFeed();
  return { ...feed, crossProcess: true, subscribe: feed.subscribe, publish: feed.publish };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("cachedSessionRegistry", () => {
  test("repeated reads of a session make no registry query; a revocation in another process is seen on the next read", async () => {
    const db = database();
    const feed = sharedFeed();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    await a.create(session("s1", "u1"));
    await settle();
    for (let i = 0; i < 100; i++) assert.equal((await a.check("s1"))?.revoked, false);
    assert.equal(db.calls.check, 0, "created here: never read back");
    await b.check("s1");
    await b.check("s1");
    assert.equal(db.calls.check, 1, "one read in the other process, then memory");

    await a.revoke({ sid: "s1" }, 1001);
    await settle();
    assert.equal((await b.check("s1"))?.revoked, true, "b heard of it through the feed");
    assert.equal((await a.check("s1"))?.revoked, true);
    await Promise.all([a.close(), b.close()]);
  });

  test("a user's version bump, an offline patch or an epoch bump forgets what they touch", async () => {
    const db = database();
    const feed = sharedFeed();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    await a.create(session("s1", "u1"));
    await a.create(session("s2", "u2"));
    await settle();
    await b.check("s1");
    await b.check("s2");
    await a.bumpClaimsVersion("u1");
    await settle();
    assert.equal((await b.check("s1"))?.claimsVersion, 1);
    assert.equal((await b.check("s2"))?.claimsVersion, 0);
    const epoch = await a.bumpEpoch();
    await settle();
    assert.equal((await b.check("s2"))?.epoch, epoch);
    await Promise.all([a.close(), b.close()]);
  });

  test("a read that started before an invalidation does not put its stale answer in the cache", async () => {
    const db = database();
    const feed = sharedFeed();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    await db.registry.create(session("s1", "u1")); // written by a process without a cache
    await b.check("s0"); // starts b (reads the log)
    await settle();
    db.slowNextCheck();
    const slow = b.check("s1"); // reads "not revoked"…
    await settle();
    await a.revoke({ sid: "s1" }, 1001); // …while a revokes it
    await settle();
    db.releaseCheck();
    assert.equal((await slow)?.revoked, false, "that read saw the old state");
    assert.equal((await b.check("s1"))?.revoked, true, "but did not cache it");
    await Promise.all([a.close(), b.close()]);
  });

  test("when the change log cannot be read, cached states are not served: reads go to the registry", async () => {
    const db = database();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed: sharedFeed(), safetyPollMs: 20, pollMs: 20, onError: () => undefined });
    await a.create(session("s1", "u1"));
    await settle();
    await a.check("s1");
    db.changes.down = true;
    await db.registry.revoke({ sid: "s1" }, 1001); // changed behind the cache's back (no log entry)
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal((await a.check("s1"))?.revoked, true);
    await a.close();
  });
});

describe("cold reads: a session this process has not cached, answered from the token's hint", () => {
  /** Two processes on one database; `b` starts first, so it has read the log since before `a`'s sessions. */
  async function twoProcesses(options: { tellsSeq?: boolean } = {}) {
    const db = database(options);
    const feed = sharedFeed();
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    await b.check("nobody");
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    await a.create(session("s1", "u1"));
    await a.create(session("s2", "u1"));
    await a.create(session("s3", "u2"));
    await settle();
    /** The hint a token checked on `a` now carries. */
    const hintOf = async (sid: string) => {
      const state = (await a.check(sid))!;
      assert.equal(typeof state.logPosition, "number");
      return hintFrom(state);
    };
    const checks = () => db.calls.check;
    return { db, a, b, hintOf, checks, close: () => Promise.all([a.close(), b.close()]) };
  }

  test("nothing in the log names the session since the hint: answered from it, no query", async () => {
    const p = await twoProcesses();
    const hint = await p.hintOf("s1");
    await p.a.revoke({ sid: "s3" }, 1001); // another user's change moves the log on
    await settle();
    await p.b.sync(); // the log confirms what the feed announced: the position moves past it
    const before = p.checks();
    const state = await p.b.check("s1", hint);
    assert.deepEqual({ revoked: state?.revoked, claimsVersion: state?.claimsVersion, fromHint: state?.fromHint }, { revoked: false, claimsVersion: 0, fromHint: true });
    assert.ok(state!.logPosition! > hint.logPosition, "the answer is current at the newer position");
    assert.equal(p.checks(), before);
    assert.equal(p.b.stats().coldHits, 1);
    await p.close();
  });

  test("a change to the session, its user or every session after the hint: read from the registry", async () => {
    type Registry = Awaited<ReturnType<typeof twoProcesses>>["a"];
    const cases: Array<[string, (a: Registry) => Promise<unknown>, (s: Awaited<ReturnType<Registry["check"]>>) => void]> = [
      ["claims version", (a) => a.bumpClaimsVersion("u1"), (s) => assert.equal(s?.claimsVersion, 1)],
      ["pending patch", (a) => a.rewritePatch({ userId: "u1" }, () => '{"id":"p1"}'), (s) => assert.equal(s?.pendingPatch, '{"id":"p1"}')],
      ["the user's sessions revoked", (a) => a.revoke({ userId: "u1" }, 1001), (s) => assert.equal(s?.revoked, true)],
      ["the session revoked", (a) => a.revoke({ sid: "s1" }, 1001), (s) => assert.equal(s?.revoked, true)],
      ["every session: an epoch bump", (a) => a.bumpEpoch(), (s) => assert.notEqual(s?.epoch, hint0.epoch)],
    ];
    let hint0 = { epoch: "" };
    for (const [what, change, expect] of cases) {
      const p = await twoProcesses();
      const hint = await p.hintOf("s1");
      hint0 = hint;
      assert.equal((await p.b.check("s1", hint))?.fromHint, true, `${what}: cold before the change`);
      await change(p.a);
      await settle();
      const before = p.checks();
      const state = await p.b.check("s1", hint);
      assert.equal(p.checks(), before + 1, `${what}: queried`);
      assert.equal(state?.fromHint, undefined, what);
      expect(state);
      await p.close();
    }
  });

  test("the process that wrote a change never answers an older hint from before it, even before it reads the log", async () => {
    for (const tellsSeq of [true, false]) {
      const db = database();
      db.changes = memoryChangeLog({ tellsSeq });
      const a = cachedSessionRegistry(db.registry, { changes: db.changes });
      await a.create(session("s1", "u1"));
      const state = (await a.check("s1"))!;
      const hint = { userId: "u1", claimsVersion: 0, epoch: state.epoch, logPosition: state.logPosition! };
      assert.equal((await a.check("s1", hint))?.fromHint, undefined, "cached: a hit");
      await a.revoke({ sid: "s1" }, 1001);
      // No settle: the wake-up's read of the log has not run yet.
      const after = await a.check("s1", hint);
      assert.equal(after?.revoked, true, `tellsSeq=${tellsSeq}: the revocation, not the hint`);
      await a.close();
    }
  });

  test("a change whose log append failed: no process answers an older cookie's hint for it, and the change reaches the log when it works again", async () => {
    // The registry is written, then the append fails (SQLite's "database is locked", a dropped
    // connection). Nothing in the log names the session, so every process -- the one that revoked
    // it included, whose cached state that write forgot -- answered the old cookie from its hint
    // for up to freshness.verifyEvery (300 s): a sign-out (whose event only logs the failure) left
    // a copied cookie working. Before cold reads the bound was the cached state's entryTtlMs.
    for (const tellsSeq of [true, false]) {
      const p = await twoProcesses({ tellsSeq });
      const hint = await p.hintOf("s1");
      assert.equal((await p.b.check("s1", hint))?.fromHint, true, "cold in b before");
      p.db.changes.down = true;
      await assert.rejects(p.a.revoke({ sid: "s1" }, 1001), /database is locked/);
      p.db.changes.down = false;
      assert.equal((await p.a.check("s1", hint))?.revoked, true, `tellsSeq=${tellsSeq}: the process that revoked it reads the registry`);
      await p.a.sync(); // its next read of the log appends what it owes
      assert.equal((await p.a.check("s1", hint))?.revoked, true, `tellsSeq=${tellsSeq}: and after appending it`);
      await p.b.sync();
      assert.equal((await p.b.check("s1", hint))?.revoked, true, `tellsSeq=${tellsSeq}: the other process learns of it through the log`);
      assert.equal(p.db.changes.entries.filter((c) => c.kind === "session" && c.key === "s1").length, 1, "the change is in the log, once");
      await p.close();
    }
  });

  test("a hint older than what the process holds (it started later) is read from the registry, then cached", async () => {
    const p = await twoProcesses();
    const hint = await p.hintOf("s1");
    await p.a.revoke({ sid: "s3" }, 1001);
    const late = cachedSessionRegistry(p.db.registry, { changes: p.db.changes, feed: sharedFeed() });
    await late.check("nobody");
    const before = p.checks();
    assert.equal((await late.check("s1", hint))?.fromHint, undefined);
    assert.equal(p.checks(), before + 1, "read from the registry");
    await late.check("s1", hint);
    assert.equal(p.checks(), before + 1, "cached after that read");
    await Promise.all([p.close(), late.close()]);
  });

  test("a skipped sequence number after the hint (a writer not committed yet) sends the read to the registry until it arrives or expires", async () => {
    const p = await twoProcesses();
    const hint = await p.hintOf("s1");
    p.db.changes.skip(1);
    await p.a.revoke({ sid: "s3" }, 1001);
    await settle();
    const before = p.checks();
    assert.equal((await p.b.check("s1", hint))?.fromHint, undefined, "the missing number may name s1");
    assert.equal(p.checks(), before + 1);
    await p.close();
  });

  test("a skipped sequence number that never arrives: once no longer awaited, a hint from before it is read from the registry, not answered", async (t) => {
    // The number was taken by a change the registry holds but whose row the log never showed in
    // time: an append rolled back after its write (a statement timeout, a dropped connection), or a
    // PostgreSQL insert committed more than the 10-s wait after a higher one. Once the view stopped
    // waiting for it, a hint from before it was answered as if nothing had happened since: the
    // revocation it stood for was missed until freshness.verifyEvery (300 s).
    let now = performance.now();
    t.mock.method(performance, "now", () => now);
    const p = await twoProcesses();
    await p.a.bumpClaimsVersion("u-other"); // the log holds rows before the gap (not a pruned log)
    await p.b.sync();
    const hint = await p.hintOf("s1");
    await p.db.registry.revoke({ sid: "s1" }, 1001); // written; its log row never appears…
    p.db.changes.skip(1); // …but took the next number
    await p.a.revoke({ sid: "s3" }, 1001); // a later change, seen at once
    await p.b.sync();
    assert.equal((await p.b.check("s1", hint))?.revoked, true, "while the number is awaited");
    now += 11_000; // longer than a skipped number is awaited
    await p.b.sync();
    await p.b.sync();
    assert.equal((await p.b.check("s1", hint))?.revoked, true, "after: the hint is older than what the view can vouch for");
    await p.close();
  });

  test("a log pruned past a paused process's position: on waking it forgets what it knew and reads the registry", async () => {
    const p = await twoProcesses();
    const hint = await p.hintOf("s1");
    assert.equal((await p.b.check("s1", hint))?.fromHint, true);
    // b hears nothing (a paused process) while the log moves on and is pruned past b's position.
    await p.b.close();
    await p.a.bumpClaimsVersion("u1");
    p.db.changes.prune(Number.MAX_SAFE_INTEGER);
    await p.a.revoke({ sid: "s3" }, 1001);
    const syncs = p.b.stats().syncs;
    await p.b.check("nobody"); // wakes: reads the log, sees the jump, finds the rows before it gone
    while (p.b.stats().syncs === syncs) await settle();
    for (let i = 0; i < 5; i++) await settle();
    const before = p.checks();
    assert.equal((await p.b.check("s1", hint))?.claimsVersion, 1, "the pruned version bump, read from the registry");
    assert.equal(p.checks(), before + 1);
    await p.close();
  });

  test("a log that went back (a restore, a failover that lost its last rows, a truncate restarting the numbers): every process notices and reads the registry", async () => {
    // The numbers start again below what the processes have read: every new change looked older
    // than their position (skipped as already seen), and the process that wrote one named it below
    // the cookies' positions. A revocation after it was answered from older cookies' hints until
    // freshness.verifyEvery, in every process.
    const p = await twoProcesses();
    await p.a.bumpClaimsVersion("u-other");
    await p.a.bumpClaimsVersion("u-other");
    await p.b.sync();
    const hint = await p.hintOf("s1");
    assert.equal((await p.b.check("s1", hint))?.fromHint, true, "cold in b before");
    p.db.changes.entries.splice(0); // the log restored from before those rows: numbers start again at 1
    await p.a.sync();
    await p.b.sync();
    await p.a.revoke({ sid: "s1" }, 1001); // seq 1, below the cookie's position
    for (let i = 0; i < 3; i++) await p.a.bumpClaimsVersion("u-other"); // the new numbers pass it
    await p.a.sync();
    await p.b.sync();
    assert.equal((await p.b.check("s1", hint))?.revoked, true, "the other process");
    assert.equal((await p.a.check("s1", hint))?.revoked, true, "the process that revoked it");
    await p.close();
  });

  test("10,000 revocations at once: each cached session is forgotten, and the log is read in batches", async () => {
    const db = database();
    const feed = sharedFeed();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    for (let i = 0; i < 10_000; i++) await a.create(session(`s${i}`, `u${i}`));
    await settle();
    for (let i = 0; i < 10_000; i++) await b.check(`s${i}`);
    const syncs = b.stats().syncs;
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => a.revoke({ userId: `u${i}` }, 1001)));
    await settle();
    await b.check("nobody");
    for (let i = 0; i < 10_000; i += 997) assert.equal((await b.check(`s${i}`))?.revoked, true, `s${i}`);
    assert.ok(b.stats().syncs - syncs < 200, `${b.stats().syncs - syncs} log reads`);
    await Promise.all([a.close(), b.close()]);
  });
});

describe("review round 4: a user's pending-patch rewrite that fails part-way, behind the registry cache", () => {
  // With the rewrite now throwing instead of losing a change silently, a user's rewrite can fail on
  // one session after writing another. The cache logged a change only for a rewrite that returned:
  // the session it did write was served from other processes' caches as it was before.
  test("review round 4: the sessions written before the failure are not served stale by another process", async () => {
    const { registry } = sharedRegistry();
    const changes = memoryChangeLog();
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
    assert.equal((await registry.check("s1"))?.pendingPatch, '{"id":"p1","c":{"tenantId":"t2"}}');
    assert.equal((await b.check("s1"))?.pendingPatch, '{"id":"p1","c":{"tenantId":"t2"}}', "b still serves s1 without the change");
    await Promise.all([a.close(), b.close()]);
  });
});
