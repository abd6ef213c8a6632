// The contract of jwt(): nothing a plugin, a claim check or an input schema does throws out of it
// (a throw signs the user out). Security review, issue #10, item 7.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit } from "@/lib/claims-kit";
import { type AnyPlugin, type StandardSchemaV1 } from "@/lib/claims-kit/plugin";
import { jwt, memoryLogger, signInParams } from "../fixtures";

type K = { sid: string; v?: number; l?: number; e?: Record<string, { code: string }>; u?: { i: string; n?: string; c?: string } };
const k = (token: JWT) => token._k as K;

/** A schema whose validate() does whatever the test says (Standard Schema v1). */
function schema<T>(validate: (value: unknown) => unknown): StandardSchemaV1<unknown, T> {
  return { "~standard": { version: 1, vendor: "test", validate: validate as StandardSchemaV1<unknown, T>["~standard"]["validate"] } };
}

describe("nothing a plugin or schema does can throw out of jwt() (review item 7)", () => {
  test("an input schema that throws is invalid_input and the session is unchanged", async () => {
    const p = appClaims({
      id: "p",
      claims: { n: claim.client<number>() },
      load: () => ({ n: 1 }),
      intents: { setN: { input: schema<{ n: number }>(() => JSON.parse("{bad")), handle: (input: { n: number }) => ({ n: input.n }) } },
    });
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    const after = await jwt(kit, { token, trigger: "update", session: { intent: "setN", input: "x" } });
    assert.equal(after.n, 1);
    assert.equal(k(after).u?.c, "invalid_input");
  });

  test("a claim check that throws is claim_invalid and the session is unchanged", async () => {
    const p = appClaims({
      id: "p",
      claims: { label: claim.client<string>((v) => (v as string).trim().length > 0) },
      load: () => ({ label: "ok" }),
      intents: { setName: { input: schema<{ name: unknown }>((value) => ({ value })), handle: (input: { name: unknown }) => ({ label: input.name as string }) } },
    });
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    const after = await jwt(kit, { token, trigger: "update", session: { intent: "setName", input: { name: 42 } } });
    assert.equal(after.label, "ok");
    assert.equal(k(after).u?.c, "claim_invalid");
  });

  test("property: whatever plugins, checks and schemas return or throw, jwt() after sign-in returns a token", async () => {
    const hostile = fc.oneof(
      fc.constant("throw-error"),
      fc.constant("throw-string"),
      fc.constant("throw-getter"),
      fc.constant("proxy"),
      fc.constant("null"),
      fc.constant("garbage"),
      fc.anything(),
    );
    const behave = (how: unknown): unknown => {
      switch (how) {
        case "throw-error":
          throw new TypeError("x.trim is not a function");
        case "throw-string":
          throw "plain string";
        case "throw-getter":
          return Object.defineProperty({}, "v", { enumerable: true, get: () => { throw new Error("getter"); } });
        case "proxy":
          return new Proxy({}, { ownKeys: () => { throw new Error("proxy"); }, getPrototypeOf: () => { throw new Error("proto"); } });
        case "null":
          return null;
        case "garbage":
          return { v: 10n };
        default:
          return how;
      }
    };
    await fc.assert(
      fc.asyncProperty(hostile, hostile, hostile, hostile, hostile, fc.anything(), async (load, hook, check, validate, handle, input) => {
        let signedIn = false;
        const plugin: AnyPlugin = {
          id: "p",
          claims: { v: claim.client<unknown>(() => (signedIn ? (behave(check) as boolean) : true)) },
          load: () => (signedIn ? (behave(load) as never) : { v: 1 }),
          jwt: () => behave(hook) as never,
          intents: { go: { input: schema((value) => (behave(validate) === "ok" ? { value } : behave(validate))), handle: () => behave(handle) as never } },
        };
        const kit = claimsKit({ plugins: [plugin], freshness: { maxAge: 0 }, logger: memoryLogger() });
        const token = await jwt(kit, signInParams());
        signedIn = true;
        const next = await kit.callbacks.jwt({ token, trigger: "update", session: { intent: "go", input } });
        assert.ok(next && typeof next === "object", "the session survives");
        const again = await kit.callbacks.jwt({ token: next });
        assert.ok(again && typeof again === "object");
      }),
      { numRuns: 300 },
    );
  });
});
