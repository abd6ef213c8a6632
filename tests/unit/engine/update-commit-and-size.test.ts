// Update intents' side effects and size: commit() runs only after the kit accepts the patch, and
// client-chosen data cannot grow the cookie (security review, issue #10, items 8 and 9).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, ClaimsKitError, is, sizeBudget } from "@/lib/claims-kit";
import { type StandardSchemaV1 } from "@/lib/claims-kit/plugin";
import { jwt, memoryLogger, signInParams } from "../fixtures";

type K = { sid: string; v?: number; l?: number; e?: Record<string, { code: string }>; u?: { i: string; n?: string; c?: string } };
const k = (token: JWT) => token._k as K;

/** A schema whose validate() does whatever the test says (Standard Schema v1). */
function schema<T>(validate: (value: unknown) => unknown): StandardSchemaV1<unknown, T> {
  return { "~standard": { version: 1, vendor: "test", validate: validate as StandardSchemaV1<unknown, T>["~standard"]["validate"] } };
}

describe("intent side effects run only after the kit accepts the patch (review item 8)", () => {
  test("a refused patch never reaches commit(); an accepted one does, once", async () => {
    const saved: string[] = [];
    const p = appClaims({
      id: "profile",
      claims: { displayName: claim.client<string>() },
      load: () => ({ displayName: "Alice" }),
      intents: {
        setDisplayName: {
          input: schema<{ displayName: string }>((value) => ({ value })),
          handle: (input: { displayName: string }) => ({ displayName: input.displayName }),
          commit: (input: { displayName: string }) => void saved.push(input.displayName),
        },
      },
    });
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    const refused = await jwt(kit, { token, trigger: "update", session: { intent: "setDisplayName", input: { displayName: "sk_live_0123456789abcdef" } } });
    assert.equal(k(refused).u?.c, "claim_sensitive");
    assert.deepEqual(saved, [], "nothing written for a refused value");
    const ok = await jwt(kit, { token, trigger: "update", session: { intent: "setDisplayName", input: { displayName: "Ally" } } });
    assert.equal(ok.displayName, "Ally");
    assert.deepEqual(saved, ["Ally"]);
  });

  test("a commit that throws rejects the update and leaves the session as it was", async () => {
    const p = appClaims({
      id: "p",
      claims: { n: claim.client<number>() },
      load: () => ({ n: 1 }),
      intents: {
        setN: {
          input: schema<{ n: number }>((value) => ({ value })),
          handle: (input: { n: number }) => ({ n: input.n }),
          commit: () => {
            throw new ClaimsKitError("forbidden", "no");
          },
        },
      },
    });
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    const after = await jwt(kit, { token, trigger: "update", session: { intent: "setN", input: { n: 2 } } });
    assert.equal(after.n, 1);
    assert.equal(k(after).u?.c, "forbidden");
  });
});

describe("client-chosen data cannot grow the cookie (review item 9)", () => {
  const p = appClaims({
    id: "profile",
    claims: { displayName: claim.client<string>(is.stringMax(60), { maxBytes: 242 }) },
    load: () => ({ displayName: "Alice" }),
    intents: { setDisplayName: { input: schema<{ displayName: string }>((value) => ({ value })), handle: (input: { displayName: string }) => ({ displayName: input.displayName }) } },
  });

  test("a malformed or unknown intent name is not echoed into the token", async () => {
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    const size = JSON.stringify(token).length;
    for (const intent of ["\u0001".repeat(64), "x".repeat(64), `a${"\u2028".repeat(60)}`]) {
      const after = await jwt(kit, { token, trigger: "update", session: { intent } });
      assert.equal(k(after).u?.i, "");
      assert.ok(JSON.stringify(after).length < size + 60, `token grew to ${JSON.stringify(after).length} from ${size}`);
    }
    const longNonce = await jwt(kit, { token, trigger: "update", session: { intent: "refreshClaims", nonce: "n".repeat(64) } });
    assert.equal(k(longNonce).u?.c, "update_malformed");
    assert.equal(k(longNonce).u?.n, undefined);
  });

  test("a claim value over its encoded-byte limit is refused (60 control characters are 362 bytes of JSON)", async () => {
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    const control = await jwt(kit, { token, trigger: "update", session: { intent: "setDisplayName", input: { displayName: "\u0001".repeat(60) } } });
    assert.equal(control.displayName, "Alice");
    assert.equal(k(control).u?.c, "claim_invalid");
    const wide = await jwt(kit, { token, trigger: "update", session: { intent: "setDisplayName", input: { displayName: "名".repeat(60) } } });
    assert.equal(wide.displayName, "名".repeat(60), "any script's 60 characters still fit");
  });

  test("an update that would push the cookie over its budget is rejected whole", async () => {
    const notes = appClaims({
      id: "notes",
      claims: { note: claim.client<string>(undefined, { maxBytes: 4096 }) },
      load: () => ({ note: "short" }),
      intents: { setNote: { input: schema<{ note: string }>((value) => ({ value })), handle: (input: { note: string }) => ({ note: input.note }) } },
    });
    const kit = claimsKit({ plugins: [notes], budget: sizeBudget({ maxBytes: 1024 }), logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    const after = await jwt(kit, { token, trigger: "update", session: { intent: "setNote", input: { note: "x".repeat(1500) } } });
    assert.equal(after.note, "short");
    assert.equal(k(after).u?.c, "budget_exceeded");
  });
});
