// The bookkeeping the kit keeps in the token (`_k`): what it writes, and what a cookie without a
// left-out default still means (security review of the hot path, commit 21f1b64, finding 3b:
// claimsVersion 0 left out, the epoch always in).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit } from "@/lib/claims-kit";
import { memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { readMeta, writeMeta } from "@/lib/claims-kit/engine/meta";
import { memoryLogger, signInParams } from "../fixtures";

describe("the bookkeeping's wire form", () => {
  test("a registry session's version 0 costs no bytes and reads back as 0; the epoch is always written", () => {
    const wire = writeMeta({ sessionId: "s1", claimsVersion: 0, epoch: "0", loadedAt: 100 });
    assert.deepEqual(wire, { sid: "s1", l: 100, ep: "0" });
    assert.deepEqual(readMeta({ _k: wire }), { sessionId: "s1", claimsVersion: 0, epoch: "0", loadedAt: 100 });
    const bumped = writeMeta({ sessionId: "s1", claimsVersion: 3, epoch: "e2" });
    assert.deepEqual(readMeta({ _k: bumped }), { sessionId: "s1", claimsVersion: 3, epoch: "e2" });
    // Without a session id (no registry) nothing is filled in; the epoch never is (freshness reads a missing one as "0").
    assert.deepEqual(readMeta({ _k: { l: 5 } }), { loadedAt: 5 });
  });
});

describe("review: version 0 left out of the cookie, the epoch always in it", () => {
  // The memory registry's epoch starts at "0", as the Prisma registry's does (no KitSetting row).
  const plugin = appClaims({ id: "p", claims: { tier: claim.client<string>() }, load: () => ({ tier: "free" }) });

  test("a cookie carries the epoch even at \"0\" (a kit from before reads a missing epoch as none to check), and ends after a bump", async () => {
    const registry = memorySessionRegistry();
    const kit = claimsKit({ plugins: [plugin], sessions: registry, logger: memoryLogger() });
    const stored = (await kit.callbacks.jwt(signInParams() as never)) as JWT;
    assert.equal((stored._k as { ep?: string }).ep, "0");
    assert.equal("v" in (stored._k as object), false, "version 0 is left out");
    assert.ok(await kit.callbacks.jwt({ token: stored } as never), "alive before the bump");
    await registry.bumpEpoch();
    assert.equal(await kit.callbacks.jwt({ token: stored } as never), null);
  });

  test("a cookie without `v` reloads on a version bump, and without `ep` still ends after an epoch bump", async () => {
    const registry = memorySessionRegistry();
    let loads = 0;
    const counted = appClaims({ id: "p", claims: { tier: claim.client<string>() }, load: () => ({ tier: `t${++loads}` }) });
    const kit = claimsKit({ plugins: [counted], sessions: registry, logger: memoryLogger() });
    const t0 = (await kit.callbacks.jwt(signInParams() as never)) as JWT;
    await registry.bumpClaimsVersion(t0.sub!);
    const t1 = (await kit.callbacks.jwt({ token: t0 } as never)) as JWT;
    assert.equal(t1.tier, "t2");
    assert.equal((t1._k as { v?: number }).v, 1);
    const withoutEpoch = { ...t1, _k: { ...(t1._k as object), ep: undefined } };
    await registry.bumpEpoch();
    assert.equal(await kit.callbacks.jwt({ token: withoutEpoch } as never), null);
  });
});
