// A review of announced changes (issue #26): what a feed message may and may not make a process
// vouch for. Each test here failed before the fix it names.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cachedSessionRegistry, inProcessChangeFeed } from "@/lib/claims-kit/plugin";
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
});
