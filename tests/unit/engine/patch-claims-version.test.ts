// Security review (attack): an accepted update's changes are recorded for older cookie copies
// (rememberForOlderCopies -> rewritePatch). A claims-version bump is meant to supersede them
// ("everything is reloaded from the database"). Here the update derives its claims before an
// admin's demotion + reloadClaims() and records them after: every older copy then reloads the
// fresh claims and applies the stale, more privileged ones on top.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { claimsKit, permissions, tenant } from "@/lib/claims-kit";
import { definePermissions } from "@/lib/claims-kit/access";
import { memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { jwt, memoryLogger, signInParams } from "../fixtures";

const access = definePermissions({
  permissions: ["doc:read", "doc:write", "admin:all"],
  roles: { admin: "*", member: ["doc:read", "doc:write"], viewer: ["doc:read"] },
});

test("attack: an update derived before a claims-version bump and recorded after it does not re-grant the old role to older cookie copies", async () => {
  const memberships: Record<string, string> = { t1: "admin", t2: "viewer" };
  let gate: Promise<void> | undefined;
  const kit = claimsKit({
    logger: memoryLogger(),
    sessions: memorySessionRegistry(),
    plugins: [
      tenant({
        roles: ["admin", "member", "viewer"],
        defaultTenant: () => ({ tenantId: "t1", role: memberships.t1! }),
        async membership(_user, tenantId) {
          const role = memberships[tenantId];
          if (gate) await gate; // the rest of the update (dependents, commit) takes a moment
          return role ? { role } : null;
        },
      }),
      permissions({ set: access, from: ["tenantRole"] }),
    ] as const,
  });
  const t0 = await jwt(kit, signInParams("user-1")); // t1, admin
  const inT2 = await jwt(kit, { token: t0, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
  assert.equal(inT2.tenantRole, "viewer");

  // The user switches back to t1 (read: admin)…
  let open!: () => void;
  gate = new Promise<void>((resolve) => (open = resolve));
  const switching = kit.callbacks.jwt({ token: inT2, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t1" } } });
  await new Promise((resolve) => setTimeout(resolve, 20));
  // …while an admin demotes them in t1 and applies it now (admin page: role change + reloadClaims).
  memberships.t1 = "viewer";
  await kit.sessions.reloadClaims("user-1");
  gate = undefined;
  open();
  const newest = (await switching) as JWT;
  assert.equal(newest.tenantId, "t1");

  // The newest cookie reloads on its next request: viewer, as the database says.
  const newestNext = await jwt(kit, { token: newest });
  assert.equal(newestNext.tenantRole, "viewer");
  // Any older copy (the sign-in cookie, another tab) must reload to the same: not admin.
  for (const [label, older] of [["sign-in cookie", t0], ["other tab", inT2]] as const) {
    const next = await jwt(kit, { token: older });
    assert.notEqual(next.tenantRole, "admin", `${label}: the pre-bump role came back through the recorded update`);
    assert.deepEqual([...access.decode(next.permissions as string)], [...access.decode(newestNext.permissions as string)], `${label}: permissions`);
  }
});
