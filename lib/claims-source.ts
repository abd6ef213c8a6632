// Where the reference app's claims come from: plain database reads, one small query each, handed
// to the toolkit's builders in auth.config.ts. The toolkit itself never imports this module.
import { prisma } from "./db";

export async function userRole(userId: string): Promise<string | null> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { role: true } });
  return user?.role ?? null;
}

export async function userGrants(userId: string): Promise<string[]> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { grants: true } });
  return (user?.grants ?? "").split(",").map((g) => g.trim()).filter(Boolean);
}

export async function membership(userId: string, tenantId: string): Promise<{ role: string } | null> {
  return prisma.membership.findUnique({ where: { userId_tenantId: { userId, tenantId } }, select: { role: true } });
}

/** The user's default tenant when still a member, else their oldest membership. */
export async function defaultTenant(userId: string): Promise<{ tenantId: string; role: string } | null> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { defaultTenantId: true } });
  if (user?.defaultTenantId) {
    const m = await membership(userId, user.defaultTenantId);
    if (m) return { tenantId: user.defaultTenantId, role: m.role };
  }
  const first = await prisma.membership.findFirst({ where: { userId }, orderBy: { createdAt: "asc" }, select: { tenantId: true, role: true } });
  return first;
}

export async function billing(userId: string): Promise<{ tier: "free" | "pro"; credits: number } | null> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { tier: true, credits: true } });
  if (!user) return null;
  return { tier: user.tier === "pro" ? "pro" : "free", credits: user.credits };
}

export interface TenantSummary {
  id: string;
  slug: string;
  name: string;
  role: string;
}

/** Every tenant the user belongs to: server-side session data (it grows with the user). */
export async function userTenants(userId: string): Promise<TenantSummary[]> {
  const rows = await prisma.membership.findMany({
    where: { userId },
    orderBy: { tenant: { name: "asc" } },
    select: { role: true, tenant: { select: { id: true, slug: true, name: true } } },
  });
  return rows.map((r) => ({ ...r.tenant, role: r.role }));
}

export async function displayName(userId: string): Promise<string | null> {
  const user = await prisma.user.findUnique({ where: { id: userId }, select: { displayName: true, name: true } });
  // Long provider names are cut to the claim's limit rather than refused.
  return (user?.displayName ?? user?.name ?? "").slice(0, 60) || null;
}

export async function setDisplayName(userId: string, value: string): Promise<void> {
  await prisma.user.update({ where: { id: userId }, data: { displayName: value } });
}
