import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appClaims, claim, claimsKit, ClaimsKitError, is } from "@/lib/claims-kit";
import { memoryServerDataStore, type ClaimsPlugin } from "@/lib/claims-kit/plugin";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { fakeClock, jwt, memoryLogger, sessionShell, signInParams } from "../fixtures";

const plan = (value: string | null) =>
  appClaims({ id: "plan", claims: { plan: claim.client<string>(is.string) }, load: () => ({ plan: value }) });

function throwsCode(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ClaimsKitError && err.code === code && message.test(err.message));
}

describe("claimsKit start-up validation", () => {
  test("a duplicate plugin id is refused", () => {
    throwsCode(() => claimsKit({ plugins: [plan("a"), plan("b")] }), "duplicate_plugin", /plugins\[1\]: plugin id "plan" is used twice/);
  });

  test("two plugins declaring one claim are refused, naming the owner", () => {
    const other = appClaims({ id: "other", claims: { plan: claim.client<string>() }, load: () => undefined });
    throwsCode(() => claimsKit({ plugins: [plan("a"), other] }), "claim_conflict", /claim "plan" is already owned by plugin "plan"/);
  });

  test("declaring a protected claim is refused", () => {
    for (const name of ["sub", "iat", "exp", "jti", "iss", "_k"]) {
      const bad = appClaims({ id: "bad", claims: { [name]: claim.client<string>() }, load: () => undefined });
      throwsCode(() => claimsKit({ plugins: [bad] }), "claim_protected", new RegExp(`claim "${name}" is protected`));
    }
  });

  test("server-side claims without a store name the missing option", () => {
    const big = appClaims({ id: "big", claims: { blob: claim.server<string>() }, load: () => undefined });
    throwsCode(() => claimsKit({ plugins: [big] }), "invalid_option", /option "serverStore" is required: plugin "big" declares server-side claim "blob"/);
  });

  test("bad options name the option", () => {
    throwsCode(() => claimsKit({ plugins: [], issuer: "" }), "invalid_option", /option "issuer"/);
    throwsCode(() => claimsKit({ plugins: [], maxAge: -1 }), "invalid_option", /option "maxAge"/);
    const badId = { id: "Bad Id", claims: {}, load: () => undefined } as ClaimsPlugin;
    throwsCode(() => claimsKit({ plugins: [badId] }), "invalid_option", /option "id"/);
    throwsCode(() => claimsKit({ plugins: [{ ...badId, id: "kit" }] }), "invalid_option", /option "id" must not be "kit"/);
    throwsCode(() => appClaims({ id: "x", claims: { a: claim.client<string>() } }), "invalid_option", /appClaims\("x"\): option "load"/);
  });
});

describe("jwt() composition", () => {
  test("plugins run in order and later ones see earlier claims", async () => {
    const seen: unknown[] = [];
    const second = appClaims({
      id: "second",
      claims: { upper: claim.client<string>() },
      load: ({ token }) => {
        seen.push(token.plan);
        return { upper: String(token.plan).toUpperCase() };
      },
    });
    const kit = claimsKit({ plugins: [plan("pro"), second], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    assert.deepEqual(seen, ["pro"]);
    assert.equal(token.plan, "pro");
    assert.equal(token.upper, "PRO");
  });

  test("null deletes a claim; undefined leaves it", async () => {
    let next: { plan?: string | null } = { plan: "pro" };
    const p = appClaims({ id: "plan", claims: { plan: claim.client<string>() }, load: () => next });
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const t1 = await jwt(kit, signInParams());
    assert.equal(t1.plan, "pro");
    next = {};
    const t2 = await jwt(kit, { token: t1, trigger: "update", session: { intent: "refreshClaims" } });
    assert.equal(t2.plan, "pro");
    next = { plan: null };
    const t3 = await jwt(kit, { token: t2, trigger: "update", session: { intent: "refreshClaims" } });
    assert.equal("plan" in t3, false);
  });

  test("writing another plugin's claim refuses the whole patch and records the error", async () => {
    const log = memoryLogger();
    const thief = appClaims({ id: "thief", claims: { loot: claim.client<string>() }, load: () => ({ loot: "x", plan: "free" }) as { loot: string } });
    const kit = claimsKit({ plugins: [plan("pro"), thief], logger: log });
    const token = await jwt(kit, signInParams());
    assert.equal(token.plan, "pro");
    assert.equal(token.loot, undefined, "no part of a refused patch is applied");
    assert.equal((token._k as { e: Record<string, { code: string }> }).e.thief!.code, "claim_not_owned");
    assert.match(log.lines.join("\n"), /warn claim_not_owned plugin=thief step=load: "plan" belongs to plugin "plan"/);
  });

  test("protected claims cannot be written, on sign-in or later", async () => {
    for (const key of ["sub", "iat", "exp", "jti", "iss", "_k"]) {
      const evil = appClaims({ id: "evil", claims: { x: claim.client<string>() }, load: () => ({ [key]: "attacker" }) as { x: string } });
      const kit = claimsKit({ plugins: [evil], logger: memoryLogger(), issuer: "https://app.example" });
      const token = await jwt(kit, signInParams("user-1"));
      assert.equal(token.sub, "user-1");
      assert.equal(token.iss, "https://app.example");
      assert.equal((token._k as { e: Record<string, { code: string }> }).e.evil!.code, "claim_protected", key);
    }
  });

  test("a value failing the claim's check is refused (claim_invalid)", async () => {
    const bad = appClaims({ id: "tier", claims: { tier: claim.client<string>(is.oneOf(["free", "pro"])) }, load: () => ({ tier: "platinum" }) });
    const kit = claimsKit({ plugins: [bad], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    assert.equal(token.tier, undefined);
    assert.equal((token._k as { e: Record<string, { code: string }> }).e.tier!.code, "claim_invalid");
  });

  test("a failing loader never throws: the error is data, other claims survive, and it recovers", async () => {
    const clock = fakeClock();
    let fail = true;
    const flaky = appClaims({
      id: "flaky",
      claims: { credits: claim.client<number>() },
      load: () => {
        if (fail) throw new Error("database is down");
        return { credits: 5 };
      },
    });
    const kit = claimsKit({ plugins: [plan("pro"), flaky], logger: memoryLogger(), clock: clock.now });
    const token = await jwt(kit, signInParams());
    assert.equal(token.plan, "pro");
    assert.deepEqual((token._k as { e: unknown }).e, { flaky: { code: "load_failed", at: clock.now() / 1000 } });
    const session = await kit.callbacks.session({ session: sessionShell(), token } as never);
    assert.deepEqual((session as unknown as { errors: unknown }).errors, { flaky: "load_failed" });

    fail = false;
    const healed = await jwt(kit, { token, trigger: "update", session: { intent: "refreshClaims" } });
    assert.equal(healed.credits, 5);
    assert.equal((healed._k as { e?: unknown }).e, undefined);
  });

  test("a ClaimsKitError keeps its code on the token", async () => {
    const p = appClaims({ id: "p", claims: { a: claim.client<string>() }, load: () => { throw new ClaimsKitError("forbidden", "no"); } });
    const kit = claimsKit({ plugins: [p], logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    assert.equal((token._k as { e: Record<string, { code: string }> }).e.p!.code, "forbidden");
  });

  test("sign-in sets the issuer and a fresh session id; later calls keep them", async () => {
    const kit = claimsKit({ plugins: [plan("pro")], issuer: "https://app.example", logger: memoryLogger() });
    const a = await jwt(kit, signInParams());
    const b = await jwt(kit, signInParams());
    const sidA = (a._k as { sid: string }).sid;
    assert.equal(a.iss, "https://app.example");
    assert.match(sidA, /^[A-Za-z0-9_-]{22}$/, "128 random bits, base64url");
    assert.notEqual(sidA, (b._k as { sid: string }).sid);
    const again = await jwt(kit, { token: a });
    assert.equal(again.iss, "https://app.example");
    assert.equal((again._k as { sid: string }).sid, sidA);
  });

  test("jwt halves run on every call, after loads", async () => {
    let calls = 0;
    const counter = appClaims({ id: "counter", claims: { n: claim.token<number>() }, jwt: () => ({ n: ++calls }) });
    const kit = claimsKit({ plugins: [counter], logger: memoryLogger() });
    const t1 = await jwt(kit, signInParams());
    const t2 = await jwt(kit, { token: t1 });
    assert.equal(t2.n, 2);
  });
});

describe("session() and visibility", () => {
  test("only client claims reach the session; token-only and server-side claims do not", async () => {
    const store = memoryServerDataStore();
    const p = appClaims({
      id: "mixed",
      claims: { shown: claim.client<string>(), hidden: claim.token<string>(), big: claim.server<string[]>() },
      load: () => ({ shown: "yes", hidden: "token-only-value", big: ["a", "b"] }),
    });
    const kit = claimsKit({ plugins: [p], serverStore: store, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    assert.equal(token.hidden, "token-only-value");
    assert.equal(token.big, undefined, "server-side claims are not in the token");
    const session = (await kit.callbacks.session({ session: sessionShell(), token } as never)) as unknown as Record<string, unknown>;
    assert.deepEqual(session.claims, { shown: "yes" });
    assert.deepEqual(session.user, { name: "Alice", email: "alice@example.com", image: null, id: "user-1" });
    assert.equal(JSON.stringify(session).includes("token-only-value"), false);
    assert.deepEqual(await internalsOf(kit).readServerData(token), { big: ["a", "b"] });

    await kit.events.signOut({ token });
    assert.deepEqual(await internalsOf(kit).readServerData(token), {});
    assert.equal(store.size(), 0);
  });

  test("server-side null deletes the stored key", async () => {
    let value: string[] | null = ["a"];
    const p = appClaims({ id: "srv", claims: { big: claim.server<string[]>() }, load: () => ({ big: value }) });
    const kit = claimsKit({ plugins: [p], serverStore: memoryServerDataStore(), logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    value = null;
    await jwt(kit, { token, trigger: "update", session: { intent: "refreshClaims" } });
    assert.deepEqual(await internalsOf(kit).readServerData(token), {});
  });
});
