// The tenant() plugin (plugins/tenant.ts): the default tenant at sign-in, its options.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { claimsKit, tenant } from "@/lib/claims-kit";
import { jwt, memoryLogger, signInParams } from "../fixtures";

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
