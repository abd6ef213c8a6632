// The roles() plugin (plugins/roles.ts).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { claimsKit, roles } from "@/lib/claims-kit";
import { jwt, memoryLogger, signInParams } from "../fixtures";

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
