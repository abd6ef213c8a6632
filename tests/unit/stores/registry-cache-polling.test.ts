// Security review (attack): cachedSessionRegistry must not serve a revoked session for longer than
// its poll interval. Each test models two processes sharing one registry and one change log.
import assert from "node:assert/strict";
import { describe, test, type TestContext } from "node:test";
import { cachedSessionRegistry, inProcessChangeFeed, type ChangeFeed, type ChangeLog, type RegistryChange } from "@/lib/claims-kit/plugin";
import { memorySessionRegistry } from "@/lib/claims-kit/plugin";

function database() {
  const registry = memorySessionRegistry();
  /** Rows as committed (visible); `seq` allocated at insert time, like SERIAL/nextval. */
  const log: RegistryChange[] = [];
  let nextSeq = 0;
  const ctl = {
    appendFails: false,
    /** When set, the next append allocates its seq but commits only when released. */
    holdNextCommit: false,
    release: undefined as undefined | (() => void),
  };
  const changes: ChangeLog = {
    async append(kind, key) {
      if (ctl.appendFails) throw new Error("could not write KitChange (disk full)");
      const row = { seq: ++nextSeq, kind, key };
      if (ctl.holdNextCommit) {
        ctl.holdNextCommit = false;
        await new Promise<void>((resolve) => (ctl.release = resolve));
      }
      log.push(row);
    },
    async since(seq, limit) {
      // ORDER BY seq over what is committed now.
      return log.filter((c) => c.seq > seq).sort((a, b) => a.seq - b.seq).slice(0, limit);
    },
    latest: async () => log.reduce((m, c) => Math.max(m, c.seq), 0),
  };
  return { registry, changes, ctl };
}

const session = (sid: string, userId: string) => ({ sid, userId, now: 1000 });
/**
 * The cache's clocks moved by the test instead of waited for: its monotonic clock
 * (performance.now) and its timers (node:test's mocked setTimeout and setInterval), in 10 ms steps
 * with pending I/O callbacks and promises run between them.
 */
function virtualTime(t: TestContext) {
  let now = performance.now();
  t.mock.method(performance, "now", () => now);
  t.mock.timers.enable({ apis: ["setTimeout", "setInterval"] });
  return async (ms: number) => {
    for (let passed = 0; passed < ms; passed += 10) {
      now += 10;
      t.mock.timers.tick(10);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
}
const settle = () => new Promise((resolve) => setImmediate(resolve));
/** LISTEN/NOTIFY that is up: reaches every subscribed process. */
function sharedFeed(): ChangeFeed {
  const feed = inProcessChangeFeed();
  return { ...feed, crossProcess: true, subscribe: feed.subscribe, publish: feed.publish };
}
/** Two separate processes without a cross-process feed (SQLite; PostgreSQL with LISTEN down). */
const isolatedFeed = (): ChangeFeed => ({ crossProcess: false, subscribe: () => () => undefined, publish: async () => undefined });

describe("attack: cachedSessionRegistry keeps revocation within its poll interval", () => {
  test("a wake-up that arrives while a sync is already reading the log is not lost", async (t) => {
    const sleep = virtualTime(t);
    const db = database();
    const feed = sharedFeed();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed });
    // b's own connection to the log: only b's reads are held.
    let holdB = false;
    let releaseB: (() => void) | undefined;
    const bChanges: ChangeLog = {
      ...db.changes,
      async since(seq, limit) {
        const snapshot = await db.changes.since(seq, limit);
        if (holdB) {
          holdB = false;
          await new Promise<void>((resolve) => (releaseB = resolve));
        }
        return snapshot;
      },
    };
    const b = cachedSessionRegistry(db.registry, { changes: bChanges, feed });
    try {
      await a.create(session("s1", "u1"));
      await b.check("s1");
      await b.check("s1"); // cached in b
      await settle();
      holdB = true; // b's next sync reads the log, its answer is slow to come back
      await a.bumpClaimsVersion("u-other"); // wakes b: its sync takes a snapshot without what follows
      await settle();
      await a.revoke({ sid: "s1" }, 1001); // NOTIFY arrives while that sync is in flight: coalesced into it
      await settle();
      assert.ok(releaseB, "b's sync is in flight");
      releaseB!();
      await sleep(1100); // more than the 1 s poll interval
      assert.equal((await b.check("s1"))?.revoked, true, "b still serves the revoked session from memory (until safetyPollMs/entryTtlMs: 30 s)");
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a change-log row committed after a higher seq (SERIAL/nextval on PostgreSQL) is still applied", async (t) => {
    const sleep = virtualTime(t);
    const db = database();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 50 });
    const a2 = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 50 });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 50 });
    try {
      await a.create(session("s1", "u1"));
      await b.check("s1");
      await b.check("s1"); // cached in b
      db.ctl.holdNextCommit = true;
      const revoking = a.revoke({ sid: "s1" }, 1001); // seq 1 allocated, its INSERT commits late
      await settle();
      await a2.bumpClaimsVersion("u-other"); // seq 2, committed at once
      await sleep(150); // b reads the log: sees seq 2, lastSeq = 2
      db.ctl.release!(); // seq 1 becomes visible now
      await revoking;
      await sleep(300); // six poll intervals
      assert.equal((await b.check("s1"))?.revoked, true, "b skipped seq 1 for good and serves the revoked session");
    } finally {
      await Promise.all([a.close(), a2.close(), b.close()]);
    }
  });

  test("a revocation whose change-log append fails is not reported as done while other processes keep the session", async (t) => {
    const sleep = virtualTime(t);
    const db = database();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 50, onError: () => undefined });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 50 });
    try {
      await a.create(session("s1", "u1"));
      await b.check("s1");
      await b.check("s1");
      db.ctl.appendFails = true;
      const outcome = await a.revoke({ sid: "s1" }, 1001).then(() => "resolved", () => "rejected");
      db.ctl.appendFails = false;
      await sleep(300);
      const seenByB = (await b.check("s1"))?.revoked;
      assert.ok(outcome === "rejected" || seenByB === true, `revoke ${outcome}, yet process b still accepts the session (up to entryTtlMs, 30 s)`);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a change whose log append failed is appended by the poll once the log works again, also in a process that only writes", async (t) => {
    const sleep = virtualTime(t);
    const db = database();
    const writer = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 50, onError: () => undefined });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 50 });
    try {
      await db.registry.create(session("s1", "u1"));
      await b.check("s1");
      await b.check("s1"); // cached in b
      db.ctl.appendFails = true;
      await assert.rejects(writer.revoke({ sid: "s1" }, 1001)); // an admin job: it never reads a session
      await sleep(200);
      db.ctl.appendFails = false;
      await sleep(200);
      assert.equal((await b.check("s1"))?.revoked, true, "b heard of it through the log, within its poll");
    } finally {
      await Promise.all([writer.close(), b.close()]);
    }
  });

  test("a wall clock stepped back (NTP, VM resume) does not stop the polling while cached states are served", async (t) => {
    const sleep = virtualTime(t);
    const db = database();
    const a = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 20 });
    const b = cachedSessionRegistry(db.registry, { changes: db.changes, feed: isolatedFeed(), pollMs: 20 });
    const realNow = Date.now;
    try {
      await a.create(session("s1", "u1"));
      await b.check("s1");
      await b.check("s1");
      const shift = realNow() - 3_600_000;
      const start = realNow();
      Date.now = () => shift + (realNow() - start); // the clock stepped back one hour
      await a.revoke({ sid: "s1" }, 1001);
      await sleep(300); // 15 poll intervals
      assert.equal((await b.check("s1"))?.revoked, true, "b stops reading the log for an hour and serves the revoked session");
    } finally {
      Date.now = realNow;
      await Promise.all([a.close(), b.close()]);
    }
  });

  test("a poll whose read takes a while still runs once per interval, not every other one", async (t) => {
    const sleep = virtualTime(t);
    const db = database();
    let reads = 0;
    // A log read that takes 30 ms of the cache's clock (a round trip to the database).
    const slow: ChangeLog = {
      ...db.changes,
      async since(seq, limit) {
        reads++;
        await new Promise((resolve) => setTimeout(resolve, 30));
        return db.changes.since(seq, limit);
      },
    };
    const a = cachedSessionRegistry(db.registry, { changes: slow, feed: isolatedFeed(), pollMs: 1000 });
    try {
      const created = a.create(session("s1", "u1")); // its first log read waits on the mocked timers
      await sleep(1500);
      await created;
      const before = reads;
      await sleep(10_000);
      assert.ok(reads - before >= 9, `10 s of 1 s polling read the log ${reads - before} times`);
    } finally {
      await a.close();
    }
  });
});
