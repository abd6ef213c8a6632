import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { appClaims, claim, claimsKit, ClaimsKitError, sizeBudget, type OverflowPolicy } from "@/lib/claims-kit";
import { measureToken, memoryServerDataStore } from "@/lib/claims-kit/plugin";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { jwt, memoryLogger, sessionShell, signInParams } from "../fixtures";

/** A kit whose one plugin loads the given claim values, with a budget over them. */
function kitWith(values: Record<string, string>, policies: Record<string, OverflowPolicy>, maxBytes: number) {
  const claims = Object.fromEntries(Object.keys(values).map((name) => [name, claim.client<string>()]));
  const data = appClaims({ id: "data", claims, load: () => values });
  // Per-claim limits out of the way: these tests are about the whole cookie.
  return claimsKit({ plugins: [data], budget: sizeBudget({ maxBytes, claims: policies }), serverStore: memoryServerDataStore(), claimMaxBytes: 1 << 20, logger: memoryLogger() });
}

const cookieBytes = (token: Record<string, unknown>) => measureToken(token).headerBytes;

describe("sizeBudget", () => {
  test("under budget nothing changes", async () => {
    const kit = kitWith({ a: "x".repeat(100) }, { a: { drop: 1 } }, 2048);
    const token = await jwt(kit, signInParams());
    assert.equal(token.a, "x".repeat(100));
    assert.equal((token._k as { d?: unknown }).d, undefined);
  });

  test("drops and moves by priority until the cookie fits, and records both", async () => {
    const kit = kitWith(
      { small: "s".repeat(100), big: "b".repeat(1500), mid: "m".repeat(600), keep: "k".repeat(100) },
      { big: { move: 1 }, mid: { drop: 2 }, small: { drop: 3 } },
      1100,
    );
    const token = await jwt(kit, signInParams());
    const k = token._k as { d?: string[]; m?: string[] };
    assert.deepEqual(k.m, ["big"]);
    assert.deepEqual(k.d, ["mid"]);
    assert.equal(token.small, "s".repeat(100), "the budget stops as soon as it fits");
    assert.ok(cookieBytes(token) <= 1100);
    assert.deepEqual(await internalsOf(kit).readServerData(token), { big: "b".repeat(1500) });
    const session = (await kit.callbacks.session({ session: sessionShell(), token } as never)) as unknown as { claims: Record<string, unknown> };
    assert.equal(session.claims.big, "b".repeat(1500), "moved client claims still reach the session");
    assert.equal(session.claims.mid, undefined);
  });

  test("required claims alone over budget: sign-in is refused with a breakdown", async () => {
    const kit = kitWith({ huge: "h".repeat(3000) }, {}, 1024);
    await assert.rejects(kit.callbacks.jwt(signInParams()), (e: unknown) => e instanceof ClaimsKitError && e.code === "budget_exceeded" && /huge=\d+/.test(e.message));
  });

  test("bad options are refused at start-up", () => {
    assert.throws(() => sizeBudget({ maxBytes: 10 }), /sizeBudget: option "maxBytes"/);
    assert.throws(() => sizeBudget({ claims: { a: "sometimes" as never } }), /sizeBudget: option "claims.a"/);
    const move = sizeBudget({ claims: { a: { move: 1 } } });
    assert.throws(() => claimsKit({ plugins: [], budget: move }), /option "serverStore" is required: the budget moves claims/);
    assert.throws(() => claimsKit({ plugins: [], budget: { decide: 1 } as never }), /option "budget" must come from sizeBudget\(\)/);
  });

  test("property: never over budget unless required claims alone are; removes lowest priority first; deterministic", async () => {
    const entry = fc.record({
      size: fc.integer({ min: 0, max: 900 }),
      policy: fc.oneof(fc.constant<OverflowPolicy>("required"), fc.integer({ min: 0, max: 5 }).map((p): OverflowPolicy => ({ drop: p })), fc.integer({ min: 0, max: 5 }).map((p): OverflowPolicy => ({ move: p }))),
    });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom("a", "b", "c", "d", "e", "f"), entry, { minKeys: 1 }), fc.integer({ min: 600, max: 3000 }), async (spec, maxBytes) => {
        const values = Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, "v".repeat(v.size)]));
        const policies = Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, v.policy]));
        const kit = kitWith(values, policies, maxBytes);
        let token;
        try {
          token = await jwt(kit, signInParams());
        } catch (e) {
          assert.ok(e instanceof ClaimsKitError && e.code === "budget_exceeded");
          const requiredOnly = Object.fromEntries(Object.entries(values).filter(([k]) => policies[k] === "required"));
          const base = await jwt(kitWith({}, {}, 100_000), signInParams());
          // The budget also counts the lists of removed names it records (a few dozen bytes here).
          assert.ok(cookieBytes({ ...base, ...requiredOnly }) > maxBytes - 100, "refused only when required claims alone are over");
          return;
        }
        assert.ok(cookieBytes(token) <= maxBytes);
        const k = token._k as { d?: string[]; m?: string[] };
        const removed = [...(k.d ?? []), ...(k.m ?? [])];
        const prio = (n: string) => { const p = policies[n]!; return p === "required" ? Infinity : "drop" in p ? p.drop : p.move; };
        for (const name of removed) assert.notEqual(policies[name], "required");
        const kept = Object.keys(values).filter((n) => !removed.includes(n) && policies[n] !== "required");
        for (const r of removed) for (const kname of kept) assert.ok(prio(r) <= prio(kname), `${r} removed before lower-priority ${kname}`);
        const again = await jwt(kitWith(values, policies, maxBytes), signInParams());
        assert.deepEqual(again._k && { d: (again._k as typeof k).d, m: (again._k as typeof k).m }, { d: k.d, m: k.m });
      }),
      { numRuns: 150 },
    );
  });
});
