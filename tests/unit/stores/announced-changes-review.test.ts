// A review of announced changes (issue #26): what a feed message may and may not make a process
// vouch for. Each test here failed before the fix it names.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cachedSessionRegistry, inProcessChangeFeed } from "@/lib/claims-kit/plugin";
import { logView } from "@/lib/claims-kit/stores/log-view";
import { feedBus, hintFrom, memoryChangeLog, sharedRegistry } from "../fixtures";

const SECRET = "a-secret-of-at-least-32-characters-long";

/** A log whose `latest()` can be held once asked (a restart then waits on it). */
function holdableLog() {
  const log = memoryChangeLog();
  let hold: Promise<void> | null = null;
  let entered: () => void = () => undefined;
  const changes = {
    ...log,
    async latest() {
      const latest = await log.latest();
      if (hold) {
        entered();
        await hold;
      }
      return latest;
    },
  };
  return {
    log,
    changes,
    /** Hold the next `latest()`: resolves `asked` when it is asked; `release` lets it answer (what the log held when asked). */
    hold() {
      let release: () => void = () => undefined;
      hold = new Promise<void>((resolve) => (release = resolve));
      const asked = new Promise<void>((resolve) => (entered = resolve));
      return { asked, release };
    },
  };
}

describe("announced changes under review", () => {
  test("announcements of another registry's log (two apps in one process share the in-process feed) never reach a cookie's position: a revoked session is not answered from it", async () => {
    // One process hosts two apps (two databases: two registries, two logs) on the in-process feed,
    // which is one per process. X's change is announced to Y's cache as if it were Y's.
    const feed = inProcessChangeFeed();
    const x = { ...sharedRegistry(), log: memoryChangeLog() };
    const y = { ...sharedRegistry(), log: memoryChangeLog() };
    const xa = cachedSessionRegistry(x.registry, { changes: x.log, feed });
    const y1 = cachedSessionRegistry(y.registry, { changes: y.log, feed });
    // Another process of Y (its in-process feed does not reach this one: it polls).
    const y2 = cachedSessionRegistry(y.registry, { changes: y.log });
    await xa.create({ sid: "x1", userId: "xu1", now: 1000 });
    await y1.create({ sid: "s1", userId: "u1", now: 1000 });
    await y2.sync();
    await xa.revoke({ sid: "x1" }, 1001); // X's log: number 1
    const state = (await y1.check("s1"))!;
    const hint = hintFrom(state);
    await y2.revoke({ sid: "s1" }, 1002); // Y's log: number 1 revokes s1
    await y2.sync();
    const seen = await y2.check("s1", hint);
    assert.equal(seen?.fromHint, undefined, "the hint's position holds a number y1 knew only from X's announcement");
    assert.equal(seen?.revoked, true);
    await Promise.all([xa.close(), y1.close(), y2.close()]);
  });

  test("a restart that reads the log's end while this process writes (a jump past MAX_GAP) does not forget the write: no hint from before it is answered", async () => {
    const { log, changes, hold } = holdableLog();
    const view = logView(changes, 1000);
    const apply = () => undefined;
    await view.read(apply, 0);
    await log.append("user", "u8", 1);
    await view.read(apply, 0);
    log.skip(10_001); // a sequence that jumped (restarted, altered): the view starts again from the log's end
    await log.append("user", "u9", 1);
    const { asked, release } = hold();
    const reading = view.read(apply, 0);
    await asked; // the restart asked the log's end…
    const seq = (await log.append("session", "s1", 2)) as number; // …and this process revoked s1 meanwhile
    view.noteOwn({ seq, kind: "session", key: "s1" });
    release();
    await reading;
    const position = view.position()!;
    assert.equal(position < seq, true, "the restart's position is from before the write");
    assert.equal(view.unchangedSince(position, "s1", "u1"), false, "s1 changed after that position");
  });

  test("two apps on one channel with one secret: the real change announced under a number another app's message took first is still applied (a revoked session is not answered from an older hint)", async () => {
    const wire = feedBus(SECRET);
    const x = { ...sharedRegistry(), log: memoryChangeLog() };
    const y = { ...sharedRegistry(), log: memoryChangeLog() };
    const xa = cachedSessionRegistry(x.registry, { changes: x.log, feed: wire.feed() });
    const ya = cachedSessionRegistry(y.registry, { changes: y.log, feed: wire.feed() });
    const yb = cachedSessionRegistry(y.registry, { changes: y.log, feed: wire.feed() });
    await xa.create({ sid: "x1", userId: "xu1", now: 1000 });
    await ya.create({ sid: "s1", userId: "u1", now: 1000 });
    await yb.sync();
    const state = (await ya.check("s1"))!;
    const hint = hintFrom(state);
    await xa.revoke({ sid: "x1" }, 1001); // X's number 1, announced first
    await ya.revoke({ sid: "s1" }, 1001); // Y's number 1
    wire.deliver();
    const seen = await yb.check("s1", hint);
    assert.equal(seen?.fromHint, undefined, "Y's revocation was announced to yb");
    assert.equal(seen?.revoked, true);
    await Promise.all([xa.close(), ya.close(), yb.close()]);
  });

  test("a read that finds the log contradicting an announced change names the log's change before it asks the log's end", async () => {
    const { log, changes, hold } = holdableLog();
    const view = logView(changes, 1000);
    const apply = () => undefined;
    await log.append("user", "u0", 1);
    await view.read(apply, 0);
    await view.read(apply, 0);
    const position = view.position()!;
    view.push([{ seq: position + 1, kind: "user", key: "u9" }], apply); // a message's claim…
    await log.append("session", "s1", 2); // …and what the log holds under that number
    const { asked, release } = hold();
    const reading = view.read(apply, 0);
    await asked; // contradicted: the restart asks the log's end
    assert.equal(view.unchangedSince(position, "s1", "u1"), false, "the log named s1 after the hint");
    release();
    await reading;
  });
});

describe("announced changes while the log cannot be read", () => {
  test("messages alone move the view at most MAX_GAP numbers past the last read (what waits to be checked stays bounded), then it waits for a read", async () => {
    const log = memoryChangeLog();
    const view = logView(log, 1000);
    await view.read(() => undefined, 0);
    log.down = true; // this process cannot reach the log (its writers can, and keep announcing)
    let moved = true;
    for (let seq = 1; seq <= 30_000 && moved; seq += 500) {
      moved = view.push(Array.from({ length: 500 }, (_, i) => ({ seq: seq + i, kind: "session" as const, key: `s${seq + i}` })), () => undefined);
    }
    assert.equal(moved, false, "no longer moved by messages alone");
    assert.equal(view.behind, true, "waits for a read of the log");
  });
});
