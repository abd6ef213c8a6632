// A review of announced changes (issue #26): what a feed message may and may not make a process
// vouch for. Each test here failed before the fix it names.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cachedSessionRegistry, inProcessChangeFeed } from "@/lib/claims-kit/plugin";
import { logView } from "@/lib/claims-kit/stores/log-view";
import { memoryChangeLog, sharedRegistry } from "../fixtures";

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
    const hint = { userId: "u1", claimsVersion: state.claimsVersion, epoch: state.epoch, logPosition: state.logPosition! };
    await y2.revoke({ sid: "s1" }, 1002); // Y's log: number 1 revokes s1
    await y2.sync();
    const seen = await y2.check("s1", hint);
    assert.equal(seen?.fromHint, undefined, "the hint's position holds a number y1 knew only from X's announcement");
    assert.equal(seen?.revoked, true);
    await Promise.all([xa.close(), y1.close(), y2.close()]);
  });

  test("a restart that reads the log's end while this process writes (a jump past MAX_GAP) does not forget the write: no hint from before it is answered", async () => {
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
    const view = logView(changes, 1000);
    const apply = () => undefined;
    await view.read(apply, 0);
    await log.append("user", "u8", 1);
    await view.read(apply, 0);
    log.skip(10_001); // a sequence that jumped (restarted, altered): the view starts again from the log's end
    await log.append("user", "u9", 1);
    let release: () => void = () => undefined;
    hold = new Promise<void>((resolve) => (release = resolve));
    const inLatest = new Promise<void>((resolve) => (entered = resolve));
    const reading = view.read(apply, 0);
    await inLatest; // the restart asked the log's end…
    const seq = (await log.append("session", "s1", 2)) as number; // …and this process revoked s1 meanwhile
    view.noteOwn({ seq, kind: "session", key: "s1" });
    release();
    await reading;
    const position = view.position()!;
    assert.equal(position < seq, true, "the restart's position is from before the write");
    assert.equal(view.unchangedSince(position, "s1", "u1"), false, "s1 changed after that position");
  });
});
