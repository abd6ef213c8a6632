// Regression tests for the security review (issue #10) at the level of the composed callbacks.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, ClaimsKitError, is, sizeBudget } from "@/lib/claims-kit";
import { expireRemoved, guardAuthRequest } from "@/lib/claims-kit/next/internal/route-guard";
import { type AnyPlugin, type StandardSchemaV1 } from "@/lib/claims-kit/plugin";
import { fakeRegistry, jwt, memoryLogger, signInParams } from "../fixtures";

type K = { sid: string; v?: number; l?: number; e?: Record<string, { code: string }>; u?: { i: string; n?: string; c?: string } };
const k = (token: JWT) => token._k as K;

/** A schema whose validate() does whatever the test says (Standard Schema v1). */
function schema<T>(validate: (value: unknown) => unknown): StandardSchemaV1<unknown, T> {
  return { "~standard": { version: 1, vendor: "test", validate: validate as StandardSchemaV1<unknown, T>["~standard"]["validate"] } };
}

describe("reloads are all or nothing (review item 2)", () => {
  function rolesAndPermissions() {
    const db = { role: "admin", failPermissions: false };
    const role = appClaims({ id: "role", claims: { role: claim.client<string>() }, load: () => ({ role: db.role }) });
    const perms = appClaims({
      id: "perms",
      claims: { perms: claim.client<string>() },
      reloadOn: ["role"],
      load: ({ token }) => {
        if (db.failPermissions) throw new Error("database unavailable");
        return { perms: token.role === "admin" ? "all" : "read" };
      },
    });
    return { db, plugins: [role, perms] as const };
  }

  test("a failed reload after a claims-version bump keeps the old claims whole, and the next request retries it", async () => {
    const { db, plugins } = rolesAndPermissions();
    const registry = fakeRegistry();
    const kit = claimsKit({ plugins, sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    assert.deepEqual([token.role, token.perms], ["admin", "all"]);

    db.role = "viewer";
    db.failPermissions = true;
    registry.state.get(k(token).sid)!.claimsVersion = 1;
    const failed = await jwt(kit, { token });
    assert.deepEqual([failed.role, failed.perms], ["admin", "all"], "never a viewer role with admin permission bits");
    // Version 0 is left out of the cookie (absent reads as 0).
    assert.equal(k(failed).v ?? 0, 0, "the version does not advance past a failed reload");
    assert.equal(k(failed).e?.perms?.code, "load_failed");

    db.failPermissions = false;
    const retried = await jwt(kit, { token: failed });
    assert.deepEqual([retried.role, retried.perms], ["viewer", "read"]);
    assert.equal(k(retried).v, 1);
    assert.equal(k(retried).e, undefined);
  });

  test("a load that failed at sign-in is retried on the next request, even without a max age", async () => {
    const { db, plugins } = rolesAndPermissions();
    const kit = claimsKit({ plugins, logger: memoryLogger() });
    db.failPermissions = true;
    const token = await jwt(kit, signInParams());
    assert.equal(token.perms, undefined);
    assert.equal(k(token).l, 0, "marked as never fully loaded");
    db.failPermissions = false;
    const next = await jwt(kit, { token });
    assert.equal(next.perms, "all");
    assert.ok((k(next).l ?? 0) > 0);
  });

  test("a per-plugin max-age reload whose dependent fails keeps both as they were", async () => {
    const db = { tier: "free", failDerived: false };
    const billing = appClaims({ id: "billing", claims: { tier: claim.client<string>() }, maxAge: 60, load: () => ({ tier: db.tier }) });
    const derived = appClaims({
      id: "derived",
      claims: { isPro: claim.client<boolean>() },
      reloadOn: ["tier"],
      load: ({ token }) => {
        if (db.failDerived) throw new Error("down");
        return { isPro: token.tier === "pro" };
      },
    });
    let now = Date.UTC(2026, 11, 1);
    const kit = claimsKit({ plugins: [billing, derived], clock: () => now, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    db.tier = "pro";
    db.failDerived = true;
    now += 61_000;
    const failed = await jwt(kit, { token });
    assert.deepEqual([failed.tier, failed.isPro], ["free", false]);
    db.failDerived = false;
    const retried = await jwt(kit, { token: failed });
    assert.deepEqual([retried.tier, retried.isPro], ["pro", true]);
  });
});

describe("a patch the rules refuse clears that plugin's claims, the rest of the reload applies (review)", () => {
  test("a version-bump reload with one always-refused claim still applies the others and advances the version", async () => {
    const db = { role: "admin", name: "ok" };
    const role = appClaims({ id: "role", claims: { role: claim.client<string>() }, load: () => ({ role: db.role }) });
    const perms = appClaims({ id: "perms", claims: { perms: claim.client<string>() }, reloadOn: ["role"], load: ({ token }) => ({ perms: token.role === "admin" ? "all" : "read" }) });
    const label = appClaims({ id: "label", claims: { label: claim.client<string>(undefined, { maxBytes: 10 }) }, load: () => ({ label: db.name }) });
    const registry = fakeRegistry();
    const kit = claimsKit({ plugins: [role, perms, label], sessions: registry, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    db.role = "viewer";
    db.name = "x".repeat(50); // refused on every try: over its 10 bytes
    registry.state.get(k(token).sid)!.claimsVersion = 1;
    const after = await jwt(kit, { token });
    assert.deepEqual([after.role, after.perms, after.label], ["viewer", "read", undefined]);
    assert.equal(k(after).v, 1);
    assert.equal(k(after).e?.label?.code, "claim_invalid");
  });
});

describe("the Auth.js route guard (reviews: account linking)", () => {
  const cookie = "a=1; authjs.session-token.0=x; authjs.session-token.1=y; __Secure-authjs.session-token=z; authjs.session-tokenX=s; authjs.session-token-old=o; authjs.csrf-token=c";
  const removedFrom = (url: string) => guardAuthRequest(new Request(url, { headers: { cookie } }));

  test("strips every cookie Auth.js would read as the session (its name as a prefix) from callbacks", () => {
    const callback = removedFrom("http://localhost/api/auth/callback/oidc?code=1");
    assert.deepEqual(callback.removed, ["authjs.session-token.0", "authjs.session-token.1", "__Secure-authjs.session-token", "authjs.session-tokenX", "authjs.session-token-old"]);
    assert.equal(callback.request.headers.get("cookie"), "a=1; authjs.csrf-token=c");
  });

  test("whatever the base path or path spelling, only session and signout keep the cookie", () => {
    for (const url of ["http://localhost/api/auth//callback/oidc", "http://localhost/auth/callback/oidc", "http://localhost/app/api/auth/callback/oidc", "http://localhost/api/auth/signin/oidc", "http://localhost/api/auth/webauthn-options/passkey", "http://localhost/api/auth/callback/session", "http://localhost/api/auth/csrf"]) {
      assert.equal(removedFrom(url).removed.length, 5, url);
    }
    for (const url of ["http://localhost/api/auth/session", "http://localhost/auth/session", "http://localhost/api/auth/signout"]) {
      assert.equal(removedFrom(url).removed.length, 0, url);
      assert.equal(removedFrom(url).request.headers.get("cookie"), cookie, url);
    }
  });

  test("stale session cookies are expired only when the response issues a new session", () => {
    const signIn = new Response(null, { headers: [["set-cookie", "authjs.session-token=new; Path=/"]] });
    const expired = expireRemoved(signIn, ["authjs.session-token", "authjs.session-token.1"]).headers.getSetCookie();
    assert.deepEqual(expired.map((c) => c.split(";")[0]), ["authjs.session-token=new", "authjs.session-token.1="]);
    const csrf = new Response("{}", { headers: [["set-cookie", "authjs.csrf-token=abc; Path=/"]] });
    assert.deepEqual(expireRemoved(csrf, ["authjs.session-token"]).headers.getSetCookie(), ["authjs.csrf-token=abc; Path=/"]);
  });
});

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

describe("re-sign-in ends the previous session (review item 10)", () => {
  test("the session id of the token the browser already had is revoked when a new one is issued", async () => {
    const registry = fakeRegistry();
    let previous: JWT | null = null;
    const kit = claimsKit({ plugins: [p()], sessions: registry, requestInfo: () => ({ userAgent: "test", previousToken: previous }), logger: memoryLogger() });
    const first = await jwt(kit, signInParams());
    previous = first;
    const second = await jwt(kit, signInParams());
    assert.notEqual(k(second).sid, k(first).sid);
    assert.equal(await kit.callbacks.jwt({ token: first }), null, "the old cookie no longer works");
    assert.ok(await kit.callbacks.jwt({ token: second }));
  });
  function p() {
    return appClaims({ id: "p", claims: { a: claim.client<number>() }, load: () => ({ a: 1 }) });
  }
});

describe("a failing session registry (review: fail-open without a limit)", () => {
  const p = appClaims({ id: "p", claims: { a: claim.client<number>() }, load: () => ({ a: 1 }) });

  test("a revoked session is served for at most failOpenFor after its last good check, then ends", async () => {
    let now = Date.UTC(2026, 11, 1);
    const registry = fakeRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, freshness: { failOpenFor: 60 }, clock: () => now, logger: memoryLogger() });
    let token = await jwt(kit, signInParams());
    registry.state.get(k(token).sid)!.revoked = true;
    registry.fail = true; // the database is down (or made to time out) right after the revocation
    now += 30_000;
    token = await jwt(kit, { token });
    assert.equal(k(token).e?.kit?.code, "plugin_failed", "served, with the failure recorded");
    now += 31_000;
    assert.equal(await kit.callbacks.jwt({ token }), null, "61 s since the last good check: ended");
  });

  test("a registry slower than checkTimeoutMs counts as failing", async () => {
    let now = Date.UTC(2026, 11, 1);
    const registry = fakeRegistry();
    const kit = claimsKit({ plugins: [p], sessions: registry, freshness: { failOpenFor: 0, checkTimeoutMs: 20 }, clock: () => now, logger: memoryLogger() });
    const token = await jwt(kit, signInParams());
    registry.check = () => new Promise(() => {}); // never answers
    now += 1_000;
    assert.equal(await kit.callbacks.jwt({ token }), null);
  });

  test("a token without a session id is not accepted where there is a registry", async () => {
    const kit = claimsKit({ plugins: [p], sessions: fakeRegistry(), logger: memoryLogger() });
    assert.equal(await kit.callbacks.jwt({ token: { sub: "user-1", a: 1, _k: { l: 1 } } }), null);
  });
});
