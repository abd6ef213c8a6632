import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { z } from "zod";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, ClaimsKitError, is, permissions, tenant } from "@/lib/claims-kit";
import { definePermissions } from "@/lib/claims-kit/access";
import { jwt, memoryLogger, signInParams } from "../fixtures";

const access = definePermissions({
  permissions: ["doc:read", "doc:write", "admin:all"],
  roles: { admin: "*", member: ["doc:read", "doc:write"], viewer: ["doc:read"] },
});
const memberships: Record<string, Record<string, string>> = { "user-1": { t1: "admin", t2: "viewer" } };

function kitPlugins(extra: { failPermissions?: boolean } = {}) {
  return [
      tenant({
        roles: ["admin", "member", "viewer"],
        defaultTenant: (u) => {
          const [first] = Object.entries(memberships[u] ?? {});
          return first ? { tenantId: first[0], role: first[1] } : null;
        },
        membership: (u, t) => {
          const role = memberships[u]?.[t];
          return role ? { role } : null;
        },
      }),
      permissions({
        set: access,
        from: ["tenantRole"],
        globalGrants: () => {
          if (extra.failPermissions) throw new Error("grants table unavailable");
          return [];
        },
      }),
      appClaims({
        id: "profile",
        claims: { displayName: claim.client<string>(is.stringMax(60)), role: claim.client<string>() },
        load: () => ({ displayName: "Alice", role: "user" }),
        intents: {
          setDisplayName: {
            input: z.object({ displayName: z.string().trim().min(1).max(60) }).strict(),
            handle: (input) => ({ displayName: input.displayName }),
          },
          becomeAdmin: {
            input: z.object({}).strict(),
            // A buggy handler trying to write a claim it does not own.
            handle: () => ({ tenantRole: "admin" }) as never,
          },
        },
      }),
    ] as const;
}

function makeKit(extra: { failPermissions?: boolean } = {}) {
  return claimsKit({ logger: memoryLogger(), plugins: kitPlugins(extra) });
}

async function signedIn(kit = makeKit()): Promise<JWT> {
  return jwt(kit, signInParams("user-1"));
}

/** The token without the last-update outcome: what a rejected update must leave untouched. */
function claimsOf(token: JWT): Record<string, unknown> {
  const { _k, ...rest } = token as JWT & { _k?: { u?: unknown } };
  const { u: _u, ...k } = _k ?? {};
  return { ...rest, _k: k };
}

async function rejected(kit: ReturnType<typeof makeKit>, data: unknown, code: string): Promise<void> {
  const before = await signedIn(kit);
  const after = await jwt(kit, { token: before, trigger: "update", session: data });
  assert.deepEqual(claimsOf(after), claimsOf(before), `claims changed for ${JSON.stringify(data)}`);
  assert.equal((after._k as { u: { c: string } }).u.c, code, `code for ${JSON.stringify(data)}`);
}

describe("update intents", () => {
  test("a valid intent applies and reports success with its nonce", async () => {
    const kit = makeKit();
    const after = await jwt(kit, { token: await signedIn(kit), trigger: "update", session: { intent: "setDisplayName", input: { displayName: "  Ally " }, nonce: "abc" } });
    assert.equal(after.displayName, "Ally");
    assert.deepEqual((after._k as { u: unknown }).u, { i: "setDisplayName", n: "abc" });
  });

  test("switching tenant re-derives permissions from the new tenant role", async () => {
    const kit = makeKit();
    const before = await signedIn(kit);
    assert.deepEqual([...access.decode(before.permissions)], ["doc:read", "doc:write", "admin:all"]);
    const after = await jwt(kit, { token: before, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
    assert.equal(after.tenantId, "t2");
    assert.equal(after.tenantRole, "viewer");
    assert.deepEqual([...access.decode(after.permissions)], ["doc:read"]);
  });

  test("rejections carry stable codes and leave every claim as it was", async () => {
    const kit = makeKit();
    await rejected(kit, { intent: "switchTenant", input: { tenantId: "t-other" } }, "not_a_member");
    await rejected(kit, { intent: "nope" }, "unknown_intent");
    await rejected(kit, { intent: "setDisplayName", input: { displayName: "" } }, "invalid_input");
    await rejected(kit, { intent: "setDisplayName", input: { displayName: "x".repeat(100_000) } }, "invalid_input");
    await rejected(kit, { intent: "setDisplayName", input: { displayName: "ok", role: "admin" } }, "invalid_input");
    await rejected(kit, { intent: "switchTenant", input: { tenantId: 42 } }, "invalid_input");
    await rejected(kit, { intent: "switchTenant", input: { tenantId: "t".repeat(129) } }, "invalid_input");
    await rejected(kit, { intent: "becomeAdmin", input: {} }, "claim_not_owned");
    await rejected(kit, { intent: "refreshClaims", input: { role: "admin" } }, "invalid_input");
    await rejected(kit, { role: "admin" }, "update_malformed");
    await rejected(kit, { intent: "setDisplayName", input: { displayName: "x" }, tenantRole: "admin" }, "update_malformed");
    await rejected(kit, { intent: "setDisplayName", nonce: "<script>" }, "update_malformed");
    await rejected(kit, "switchTenant", "update_malformed");
    await rejected(kit, ["switchTenant"], "update_malformed");
    await rejected(kit, null, "update_malformed");
    await rejected(kit, JSON.parse('{"intent":"refreshClaims","__proto__":{"role":"admin"}}'), "update_malformed");
    await rejected(kit, { intent: "__proto__" }, "update_malformed");
    await rejected(kit, { intent: "constructor" }, "unknown_intent");
    assert.equal(({} as Record<string, unknown>).role, undefined, "Object.prototype untouched");
  });

  test("a dependent plugin failing rejects the whole update", async () => {
    const memberOk = makeKit();
    const token = await signedIn(memberOk);
    const failing = makeKit({ failPermissions: true });
    const after = await jwt(failing, { token, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
    assert.equal(after.tenantId, "t1");
    assert.equal(after.permissions, token.permissions);
    assert.equal((after._k as { u: { c: string } }).u.c, "load_failed");
  });

  test("an update without a signed-in user is refused", async () => {
    const kit = makeKit();
    const after = await jwt(kit, { token: { name: "x" }, trigger: "update", session: { intent: "refreshClaims" } });
    assert.equal((after._k as { u: { c: string } }).u.c, "not_signed_in");
  });

  test("refreshClaims re-runs every loader (membership removed -> fallback)", async () => {
    const kit = makeKit();
    const token = await signedIn(kit);
    memberships["user-1"] = { t2: "viewer" };
    try {
      const after = await jwt(kit, { token, trigger: "update", session: { intent: "refreshClaims" } });
      assert.equal(after.tenantId, "t2");
      assert.deepEqual([...access.decode(after.permissions)], ["doc:read"]);
    } finally {
      memberships["user-1"] = { t1: "admin", t2: "viewer" };
    }
  });

  test("intents must not collide and need a schema", () => {
    const dup = appClaims({ id: "dup", claims: { x: claim.client<string>() }, intents: { switchTenant: { input: z.object({}), handle: () => undefined } } });
    assert.throws(() => claimsKit({ plugins: [...kitPlugins(), dup] }), (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_conflict" && /intent "switchTenant" is already defined by plugin "tenant"/.test(e.message));
    const reserved = appClaims({ id: "r", claims: { x: claim.client<string>() }, intents: { refreshClaims: { input: z.object({}), handle: () => undefined } } });
    assert.throws(() => claimsKit({ plugins: [reserved] }), (e: unknown) => e instanceof ClaimsKitError && e.code === "claim_conflict");
    const noSchema = appClaims({ id: "n", claims: { x: claim.client<string>() }, intents: { go: { input: {} as never, handle: () => undefined } } });
    assert.throws(() => claimsKit({ plugins: [noSchema] }), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_option" && /intents\.go/.test(e.message));
  });
});

describe("update intents: properties", () => {
  const kit = makeKit();
  const intents = new Set(["setDisplayName", "switchTenant", "refreshClaims", "becomeAdmin"]);

  test("no payload that is not a valid intent changes a claim, and none throws", async () => {
    const base = await signedIn(kit);
    const payload = fc.oneof(
      fc.anything(),
      fc.jsonValue(),
      fc.record({ intent: fc.oneof(fc.constantFrom(...intents, "__proto__", "toString"), fc.string()), input: fc.anything() }, { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom("__proto__", "constructor", "prototype", "intent", "sub", "_k", "role"), fc.anything()),
    );
    await fc.assert(
      fc.asyncProperty(payload, async (data) => {
        const after = await jwt(kit, { token: base, trigger: "update", session: data });
        const u = (after._k as { u?: { c?: string } }).u;
        if (u?.c) assert.deepEqual(claimsOf(after), claimsOf(base));
        // Only a declared intent may succeed, or a bare POST (no data), which refreshes claims.
        else assert.ok(data === undefined || intents.has((data as { intent: string }).intent), "only a declared intent may succeed");
        assert.equal(after.sub, "user-1");
        assert.equal(({} as Record<string, unknown>).role, undefined);
      }),
      { numRuns: 400 },
    );
  });

  test("the display name is always either the validated input or unchanged", async () => {
    const base = await signedIn(kit);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (name) => {
        const after = await jwt(kit, { token: base, trigger: "update", session: { intent: "setDisplayName", input: { displayName: name } } });
        const trimmed = name.trim();
        if (trimmed.length >= 1 && trimmed.length <= 60) assert.equal(after.displayName, trimmed);
        else assert.equal(after.displayName, base.displayName);
      }),
      { numRuns: 300 },
    );
  });
});
