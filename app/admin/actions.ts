"use server";
import { revalidatePath } from "next/cache";
import { auth, kit, requireRecentAuth } from "@/auth";
import { oauth, RECENT_AUTH_MAX_AGE } from "@/auth.config";
import { authorizeRoleChange, isStaff } from "@/app/_lib/claims-source";
import { prisma } from "@/app/_lib/db";
import type { ActionAnswer } from "@/app/confirm-form";

/**
 * Change a member's role in the admin's current tenant. With "apply now" the member's sessions
 * reload their claims on their next request (claims version bump); without it they pick the change
 * up at the next freshness reload (CLAIMS_MAX_AGE).
 */
export async function changeRole(membershipId: string, _previous: RoleChangeResult | null, form: FormData): Promise<RoleChangeResult> {
  const session = await auth();
  const tenantId = session?.claims.tenantId;
  if (!session || !tenantId) return refused("not_signed_in");
  const role = String(form.get("role"));
  // Authorized from the database, not the claims: those may be CLAIMS_MAX_AGE old, and an admin
  // demoted in the meantime must not keep changing roles (or promote a friend before it lands).
  const decision = await authorizeRoleChange(session.user.id, tenantId, membershipId, role);
  if (!decision.ok) return refused(decision.code);
  // A role change needs a sign-in at the provider within the last 5 minutes: otherwise the
  // browser goes through the provider (max_age) and comes back here to try again.
  const recent = await requireRecentAuth({ maxAge: RECENT_AUTH_MAX_AGE, returnTo: "/admin", redirect: true });
  if (!recent.ok) return refused(recent.code);
  const { membership } = decision;
  // Only if the member still has the role we authorized against: an owner promoted concurrently
  // must not be unmade by an admin's request that was checked a moment before.
  const { count } = await prisma.membership.updateMany({ where: { id: membership.id, tenantId, role: membership.role }, data: { role } });
  if (count === 0) return refused("changed_meanwhile");
  const applyNow = form.get("applyNow") === "on";
  if (applyNow) await kit.sessions.reloadClaims(membership.userId);
  revalidatePath("/admin");
  return { ok: true, message: `Role set to ${role}${applyNow ? "; their open sessions pick it up on their next request" : "; their sessions pick it up within the claims max age"}.` };
}

/** What a role change answers, shown next to the form. */
export type RoleChangeResult = { ok: true; message: string } | { ok: false; code: string; message: string };

const REFUSALS: Record<string, string> = {
  not_signed_in: "You are not signed in.",
  invalid_role: "That is not a tenant role.",
  not_admin: "Only an admin or owner of this tenant can change roles.",
  no_such_member: "That member is not in this tenant.",
  own_role: "You cannot change your own role.",
  owner_only: "Only an owner can make or unmake owners.",
  changed_meanwhile: "Their role changed meanwhile; reload and try again.",
  step_up_failed: "The provider did not confirm a recent sign-in; nothing was changed.",
};

function refused(code: string): RoleChangeResult {
  return { ok: false, code, message: REFUSALS[code] ?? "The change was refused." };
}

/** Staff only: sign a user out of every session (e.g. a stolen laptop). */
export async function signOutEverywhere(userId: string): Promise<ActionAnswer> {
  const session = await auth();
  // The current global role from the database: a staff claim may be CLAIMS_MAX_AGE old.
  if (!session || !(await isStaff(session.user.id))) return { ok: false, message: "Only staff can sign a user out everywhere." };
  // Recent authentication (5 minutes), as for role changes: else a step-up through the provider.
  const recent = await requireRecentAuth({ maxAge: RECENT_AUTH_MAX_AGE, returnTo: "/admin", redirect: true });
  if (!recent.ok) return { ok: false, message: "The provider did not confirm a recent sign-in; nobody was signed out." };
  const count = await kit.sessions.revokeAll(userId, { by: "admin" });
  // And the provider grant behind those sessions, where the provider supports revocation. A
  // revocation the provider did not confirm keeps the tokens (the grant is still live and can be
  // revoked again): it must not pass unnoticed. Codes and ids only, never token values.
  const revocation = await oauth.revokeUser(userId);
  for (const a of revocation.accounts) {
    if (a.outcome === "failed") console.error(`signOutEverywhere: provider revocation failed user=${userId} account=${a.providerAccountId} code=${a.code}`);
    if (a.outcome === "unsupported") console.warn(`signOutEverywhere: provider cannot revoke user=${userId} account=${a.providerAccountId}; tokens forgotten locally only`);
  }
  revalidatePath("/admin");
  const provider = revocation.failed > 0 ? " The provider did not confirm revoking their grant; try again." : revocation.revoked > 0 ? " Their grant at the provider is revoked too." : "";
  return { ok: revocation.failed === 0, message: `Signed out ${count} session${count === 1 ? "" : "s"}.${provider}` };
}
