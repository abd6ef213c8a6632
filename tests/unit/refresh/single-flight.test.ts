// singleFlight (refresh/single-flight.ts): one run per key among concurrent callers.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { singleFlight } from "@/lib/claims-kit/refresh/single-flight";

describe("singleFlight", () => {
  test("concurrent calls with one key share one run; a settled run is not reused", async () => {
    const flight = singleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const run = async () => {
      runs++;
      await gate;
      return runs;
    };
    const all = Promise.all([flight("a", run), flight("a", run), flight("a", run), flight("b", run)]);
    release();
    assert.deepEqual(await all, [2, 2, 2, 2]);
    assert.equal(runs, 2);
    assert.equal(flight.size(), 0);
    await flight("a", run);
    assert.equal(runs, 3);
  });

  test("a failure reaches every waiter and is not cached", async () => {
    const flight = singleFlight<number>();
    let calls = 0;
    const boom = async () => {
      calls++;
      throw new Error("down");
    };
    const results = await Promise.allSettled([flight("k", boom), flight("k", boom)]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
    await assert.rejects(flight("k", boom));
    assert.equal(calls, 2);
  });
});
