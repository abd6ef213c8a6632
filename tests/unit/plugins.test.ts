import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { claimsKit, ClaimsKitError, definePermissions, permissions, roles, tenant } from "@/lib/claims-kit";
import { jwt, memoryLogger, signInParams } from "./fixtures";

const catalog = ["a:read", "a:write", "b:read", "b:write", "c:one", "c:two", "c:three", "d:x"] as const;
const access = definePermissions({ permissions: catalog, roles: { all: "*", some: ["a:read", "d:x"], none: [] } });

describe("definePermissions", () => {
  test("encodes compactly and decodes exactly", () => {
    const encoded = access.encode(["a:read", "d:x"]);
    assert.match(encoded, /^[0-9a-z]+\.[A-Za-z0-9_-]{2}$/);
    assert.deepEqual([...access.decode(encoded)], ["a:read", "d:x"]);
    assert.equal(access.encode([]), `${access.fingerprint}.`);
    assert.equal(access.decode(access.encode([])).size, 0);
  });

  test("round-trips any subset (property)", () => {
    fc.assert(
      fc.property(fc.subarray([...catalog]), (subset) => {
        assert.deepEqual([...access.decode(access.encode(subset))].sort(), [...subset].sort());
      }),
    );
  });

  test("fails closed on malformed input or another catalog", () => {
    const other = definePermissions({ permissions: ["a:read", "a:write"], roles: { x: "*" } });
    for (const bad of [undefined, null, 42, "", "nodot", `${access.fingerprint}.!!`, other.encode(["a:read"]), { permissions: "x" }]) {
      assert.equal(access.decode(bad).size, 0, JSON.stringify(bad));
    }
  });

  test("can() reads sessions and tokens, and refuses nothing-shaped subjects", () => {
    const p = access.encode(access.forRole("some"));
    assert.equal(access.can({ claims: { permissions: p } }, "d:x"), true);
    assert.equal(access.can({ claims: { permissions: p } }, "a:write"), false);
    assert.equal(access.can({ permissions: p }, "a:read"), true);
    assert.equal(access.can(null, "a:read"), false);
    assert.equal(access.can({ claims: {} }, "a:read"), false);
  });

  test("rejects bad catalogs at start-up, naming the option", () => {
    const bad = (def: unknown, re: RegExp) =>
      assert.throws(() => definePermissions(def as never), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_option" && re.test(e.message));
    bad({ permissions: [], roles: {} }, /option "permissions"/);
    bad({ permissions: ["a:read", "a:read"], roles: {} }, /option "permissions\[1\]" repeats/);
    bad({ permissions: ["Bad Name"], roles: {} }, /option "permissions\[0\]"/);
    bad({ permissions: ["a:read"], roles: { x: ["a:write"] } }, /option "roles.x" names unknown permission "a:write"/);
  });
});

describe("permissions plugin", () => {
  test("derives from the first present role claim, adds known grants, ignores unknown ones", async () => {
    const log = memoryLogger();
    const kit = claimsKit({
      logger: log,
      plugins: [
        roles({ roles: ["some", "all"], load: () => "some" }),
        permissions({ set: access, from: ["tenantRole", "role"], grants: () => ["b:read", "zzz:nope"] }),
      ],
    });
    const token = await jwt(kit, signInParams());
    assert.deepEqual([...access.decode(token.permissions)].sort(), ["a:read", "b:read", "d:x"]);
    assert.match(log.lines.join("\n"), /ignoring unknown grant "zzz:nope"/);
  });

  test("a token encoded under an older catalog is re-derived on its next request", async () => {
    const kit = claimsKit({ logger: memoryLogger(), plugins: [roles({ roles: ["all"], load: () => "all" }), permissions({ set: access, from: ["role"] })] });
    const token = await jwt(kit, signInParams());
    const stale = { ...token, permissions: "oldfp.___" };
    const next = await jwt(kit, { token: stale });
    assert.equal(next.permissions, token.permissions);
  });
});

describe("roles plugin", () => {
  test("a role outside the declared list is refused, not stored", async () => {
    const kit = claimsKit({ logger: memoryLogger(), plugins: [roles({ roles: ["user", "staff"], load: () => "superuser" })] });
    const token = await jwt(kit, signInParams());
    assert.equal(token.role, undefined);
    assert.equal((token._k as { e: Record<string, { code: string }> }).e.roles!.code, "claim_invalid");
  });

  test("a user with no role gets none", async () => {
    const kit = claimsKit({ logger: memoryLogger(), plugins: [roles({ roles: ["user"], load: () => null })] });
    assert.equal((await jwt(kit, signInParams())).role, undefined);
  });

  test("options are checked at start-up", () => {
    assert.throws(() => roles({ roles: [], load: () => null }), /roles: option "roles"/);
    assert.throws(() => roles({ roles: ["x"] } as never), /roles: option "load"/);
  });
});

describe("tenant plugin", () => {
  const plugin = (members: Record<string, string>, fallback: { tenantId: string; role: string } | null) =>
    tenant({ roles: ["admin", "member"], defaultTenant: () => fallback, membership: (_u, t) => (members[t] ? { role: members[t] } : null) });

  test("sign-in uses the default tenant and its role", async () => {
    const kit = claimsKit({ logger: memoryLogger(), plugins: [plugin({ t1: "admin" }, { tenantId: "t1", role: "admin" })] });
    const token = await jwt(kit, signInParams());
    assert.equal(token.tenantId, "t1");
    assert.equal(token.tenantRole, "admin");
  });

  test("no tenant at all leaves no tenant claims", async () => {
    const kit = claimsKit({ logger: memoryLogger(), plugins: [plugin({}, null)] });
    const token = await jwt(kit, signInParams());
    assert.equal("tenantId" in token, false);
    assert.equal("tenantRole" in token, false);
  });

  test("options are checked at start-up", () => {
    assert.throws(() => tenant({ roles: ["a"], defaultTenant: () => null } as never), /tenant: option "membership" must be a function/);
  });
});
