// When periodic work falls due (issue #26): once per period at each session's phase, never more
// than a period apart, and sessions that signed in together spread over the period.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { appClaims, claim, claimsKit } from "@/lib/claims-kit";
import { dueAgain, nextDue, phaseOf } from "@/lib/claims-kit/engine/schedule";
import { fakeClock, jwt, memoryLogger, signInParams } from "../fixtures";

describe("schedule", () => {
  test("the next moment is within one period after the last, due from then on, and a period later each time", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_000_000_000 }), fc.integer({ min: 1, max: 100_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (last, period, phase) => {
        const due = nextDue(last, period, phase);
        assert.ok(due > last && due <= last + period, `${due} not in (${last}, ${last + period}]`);
        assert.equal(dueAgain(last, due - 1, period, phase), false);
        assert.equal(dueAgain(last, due, period, phase), true);
        assert.equal(nextDue(due, period, phase), due + period);
      }),
    );
  });

  test("session ids spread over the period", () => {
    const buckets = Array.from({ length: 10 }, () => 0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(phaseOf(`session-${i}-${i * 7919}`) * 10)]!++;
    for (const n of buckets) assert.ok(n > 850 && n < 1150, `a tenth of the period holds ${n} of 10,000`);
  });

  test("200 sessions signed in together reload once each per max age, spread over it", async () => {
    const clock = fakeClock();
    const reloads: number[] = [];
    let step = 0;
    const plan = appClaims({ id: "plan", claims: { plan: claim.client<string>() }, load: ({ reason }) => (reason === "refresh" && reloads[step]!++, { plan: "pro" }) });
    const kit = claimsKit({ plugins: [plan], freshness: { maxAge: 300 }, clock: clock.now, logger: memoryLogger() });
    let tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => jwt(kit, signInParams(`user-${i}`))));
    for (step = 0; step < 10; step++) {
      reloads[step] = 0;
      clock.advance(30);
      tokens = await Promise.all(tokens.map((token) => jwt(kit, { token })));
    }
    assert.equal(reloads.reduce((a, b) => a + b, 0), 200, "each session once in the period");
    // Evenly spread: 20 a step on average; a wave would put them all in the last step.
    for (const [i, n] of reloads.entries()) assert.ok(n >= 5 && n <= 40, `step ${i}: ${n} reloads (${reloads.join(", ")})`);
  });
});
