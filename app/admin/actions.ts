"use server";
import { revalidatePath } from "next/cache";
import { auth, kit } from "@/auth";
import { oauth } from "@/auth.config";
import { can, TENANT_ROLES } from "@/lib/access";
import { prisma } from "@/lib/db";

/**
 * Change a member's role in the admin's current tenant. With "apply now" the member's sessions
 * reload their claims on their next request (claims version bump); without it they pick the change
 * up at the next freshness reload (CLAIMS_MAX_AGE).
 */
export async function changeRole(membershipId: string, form: FormData): Promise<void> {
  const session = await auth();
  const tenantId = session?.claims.tenantId;
  if (!session || !tenantId || !can(session, "tenant:admin")) return;
  const role = String(form.get("role"));
  if (!(TENANT_ROLES as readonly string[]).includes(role)) return;
  // Scoped to the admin's current tenant: a membership id from elsewhere matches nothing.
  const membership = await prisma.membership.findFirst({ where: { id: membershipId, tenantId } });
  if (!membership || membership.userId === session.user.id) return; // not your own role
  // Only an owner may make or unmake owners.
  if ((role === "owner" || membership.role === "owner") && session.claims.tenantRole !== "owner") return;
  await prisma.membership.update({ where: { id: membership.id }, data: { role } });
  if (form.get("applyNow") === "on") await kit.sessions.refreshClaims(membership.userId);
  revalidatePath("/admin");
}

/** Staff only: sign a user out of every session (e.g. a stolen laptop). */
export async function signOutEverywhere(userId: string): Promise<void> {
  const session = await auth();
  if (session?.claims.role !== "staff") return;
  await kit.sessions.revokeAll(userId);
  // And the provider grant behind those sessions, where the provider supports revocation.
  await oauth.revokeUser(userId);
  revalidatePath("/admin");
}
