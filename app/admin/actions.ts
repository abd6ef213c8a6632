"use server";
import { revalidatePath } from "next/cache";
import { auth, kit } from "@/auth";
import { oauth } from "@/auth.config";
import { authorizeRoleChange, isStaff } from "@/lib/claims-source";
import { prisma } from "@/lib/db";
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
};

function refused(code: string): RoleChangeResult {
  return { ok: false, code, message: REFUSALS[code] ?? "The change was refused." };
}

/** Staff only: sign a user out of every session (e.g. a stolen laptop). */
export async function signOutEverywhere(userId: string): Promise<ActionAnswer> {
  const session = await auth();
  // The current global role from the database: a staff claim may be CLAIMS_MAX_AGE old.
  if (!session || !(await isStaff(session.user.id))) return { ok: false, message: "Only staff can sign a user out everywhere." };
  const count = await kit.sessions.revokeAll(userId);
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
