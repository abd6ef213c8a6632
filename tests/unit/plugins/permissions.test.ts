// definePermissions() (the access entry) and the permissions() plugin (plugins/permissions.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { appClaims, claim, claimsKit, ClaimsKitError, permissions, roles, tenant } from "@/lib/claims-kit";
import { definePermissions } from "@/lib/claims-kit/access";
import { jwt, memoryLogger, signInParams } from "../fixtures";

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

  test("the fingerprint covers the role map, and only what it means (not key or list order)", () => {
    const base = { permissions: catalog, roles: { all: "*", some: ["a:read", "d:x"], none: [] } } as const;
    const fp = (roles: Record<string, readonly (typeof catalog)[number][] | "*">) => definePermissions({ permissions: catalog, roles }).fingerprint;
    assert.equal(fp(base.roles), access.fingerprint);
    // Same catalog, a role lost a permission: another fingerprint.
    assert.notEqual(fp({ ...base.roles, some: ["a:read"] }), access.fingerprint);
    // A role added, or renamed: another fingerprint.
    assert.notEqual(fp({ ...base.roles, extra: ["b:read"] }), access.fingerprint);
    assert.notEqual(fp({ all: "*", several: ["a:read", "d:x"], none: [] }), access.fingerprint);
    // The same map written in another order: the same fingerprint.
    assert.equal(fp({ none: [], some: ["d:x", "a:read"], all: "*" }), access.fingerprint);
    assert.equal(fp({ ...base.roles, all: [...catalog].reverse() }), access.fingerprint);
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
        // Declares tenantRole but sets none: the role claim is the first present one.
        appClaims({ id: "no-tenant", claims: { tenantRole: claim.client<string>() }, load: () => undefined }),
        permissions({ set: access, from: ["tenantRole", "role"], globalGrants: () => ["b:read", "zzz:nope"] }),
      ],
    });
    const token = await jwt(kit, signInParams());
    assert.deepEqual([...access.decode(token.permissions)].sort(), ["a:read", "b:read", "d:x"]);
    assert.match(log.lines.join("\n"), /ignoring unknown grant "zzz:nope"/);
  });

  test("a role claim no earlier plugin declares (a typo) is refused at start-up", () => {
    const plugins = [roles({ roles: ["some"], load: () => "some" }), permissions({ set: access, from: ["rol"] })];
    assert.throws(() => claimsKit({ plugins }), /plugins\[1\] \(permissions\): option "reloadOn" names "rol", which no earlier plugin declares/);
    // Order matters too: the role must be derived before the permissions.
    const late = [permissions({ set: access, from: ["role"] }), roles({ roles: ["some"], load: () => "some" })];
    assert.throws(() => claimsKit({ plugins: late }), /plugins\[0\] \(permissions\): option "reloadOn" names "role", which no earlier plugin declares/);
  });

  test("a token encoded under an older catalog is re-derived on its next request", async () => {
    const kit = claimsKit({ logger: memoryLogger(), plugins: [roles({ roles: ["all"], load: () => "all" }), permissions({ set: access, from: ["role"] })] });
    const token = await jwt(kit, signInParams());
    const stale = { ...token, permissions: "oldfp.___" };
    const next = await jwt(kit, { token: stale });
    assert.equal(next.permissions, token.permissions);
  });

  test("a token encoded under an older role map is re-derived to the new map's permissions", async () => {
    const before = definePermissions({ permissions: catalog, roles: { some: ["a:read", "d:x"] } });
    const after = definePermissions({ permissions: catalog, roles: { some: ["a:read"] } });
    const kitFor = (set: typeof before) =>
      claimsKit({ logger: memoryLogger(), plugins: [roles({ roles: ["some"], load: () => "some" }), permissions({ set, from: ["role"] })] });
    const old = await jwt(kitFor(before), signInParams());
    assert.deepEqual([...before.decode(old.permissions)], ["a:read", "d:x"]);
    // The next request after the deploy that took "d:x" away from the role.
    const next = await jwt(kitFor(after), { token: old });
    assert.deepEqual([...after.decode(next.permissions)], ["a:read"]);
    assert.equal(next.permissions, after.encode(["a:read"]));
  });

  describe("tenant and global grants", () => {
    const memberships: Record<string, Record<string, string>> = { "user-1": { t1: "member", t2: "member" }, "user-2": {} };
    const scoped: Record<string, Record<string, string[]>> = { "user-1": { t1: ["b:read"] }, "user-2": { t1: ["b:read"] } };
    const set = definePermissions({ permissions: catalog, roles: { member: ["a:read"] } });
    const make = (calls: string[] = []) =>
      claimsKit({
        logger: memoryLogger(),
        plugins: [
          tenant({
            roles: ["member"],
            defaultTenant: (u) => {
              const [first] = Object.entries(memberships[u] ?? {});
              return first ? { tenantId: first[0], role: first[1] } : null;
            },
            membership: (u, t) => (memberships[u]?.[t] ? { role: memberships[u]![t]! } : null),
          }),
          permissions({
            set,
            from: ["tenantRole"],
            tenantGrants: {
              claim: "tenantId",
              load: (u, t) => (calls.push(`${u}@${t}`), scoped[u]?.[t] ?? []),
            },
            globalGrants: (u) => (u === "user-1" ? ["c:one"] : []),
          }),
        ],
      });
    const decoded = (token: Record<string, unknown>) => [...set.decode(token.permissions)].sort();

    test("global grants apply in every tenant, tenant grants only in theirs (switching to a tenant with the same role)", async () => {
      const kit = make();
      const inT1 = await jwt(kit, signInParams("user-1"));
      assert.equal(inT1.tenantId, "t1");
      assert.deepEqual(decoded(inT1), ["a:read", "b:read", "c:one"]);
      const inT2 = await jwt(kit, { token: inT1, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
      assert.equal(inT2.tenantId, "t2");
      assert.equal(inT2.tenantRole, "member", "same role: only the tenant claim changed");
      assert.deepEqual(decoded(inT2), ["a:read", "c:one"]);
      const back = await jwt(kit, { token: inT2, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t1" } } });
      assert.deepEqual(decoded(back), ["a:read", "b:read", "c:one"]);
    });

    test("no tenant in the token: no tenant grants, and the loader is not asked", async () => {
      const calls: string[] = [];
      const kit = make(calls);
      // user-2 has a grant row for t1 but no membership anywhere.
      const token = await jwt(kit, signInParams("user-2"));
      assert.equal(token.tenantId, undefined);
      assert.equal(token.permissions, set.encode([]), "an empty set, not a missing or foreign claim");
      assert.deepEqual(calls, []);
    });

    test("grant options are checked at start-up, and the old tenant-blind `grants` is refused", () => {
      const bad = (options: unknown, re: RegExp) =>
        assert.throws(() => permissions(options as never), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_option" && re.test(e.message), String(re));
      bad({ set, from: ["role"], grants: () => [] }, /^permissions: option "grants" was removed: use "tenantGrants" .* or "globalGrants"/);
      bad({ set, from: ["role"], tenantGrants: () => [] }, /option "tenantGrants" must be \{ claim, load \}/);
      bad({ set, from: ["role"], tenantGrants: { load: () => [] } }, /option "tenantGrants.claim" must name the claim/);
      bad({ set, from: ["role"], tenantGrants: { claim: "tenantId" } }, /option "tenantGrants.load" must be a function/);
      bad({ set, from: ["role"], globalGrants: ["x"] }, /option "globalGrants" must be a function/);
      bad({ set, from: [""] }, /option "from\[0\]" must be a claim name/);
      assert.deepEqual(permissions({ set, from: ["tenantRole"], tenantGrants: { claim: "tenantId", load: () => [] } }).reloadOn, ["tenantRole", "tenantId"]);
    });
  });
});

