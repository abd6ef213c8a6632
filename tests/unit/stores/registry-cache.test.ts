// cachedSessionRegistry (issue #14): session reads from memory, invalidated through the shared
// change log; two "processes" share one registry and one log here.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cachedSessionRegistry, inProcessChangeFeed, type ChangeFeed } from "@/lib/claims-kit/plugin";
import { memoryChangeLog, sharedRegistry } from "../fixtures";

/** A shared registry (the database) counting reads, with userIds; one check can be held. */
function database() {
  let release: (() => void) | undefined;
  const { registry, calls } = sharedRegistry(async () => {
    if (release === undefined) return;
    await new Promise<void>((resolve) => (release = resolve));
    release = undefined;
  });
  const changes = memoryChangeLog();
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
