// Where the reference app's claims come from: plain database reads, handed to the toolkit's
// builders in auth.config.ts. The loaders of one pass (a sign-in, a claims reload) share one User
// row and one Membership row through the kit's `ctx.once`: a reload costs four statements, not
// eight. The toolkit itself never imports this module.
import type { LoadContext } from "@/lib/claims-kit/plugin";
import type { PrismaClient } from "../../prisma/generated/prisma/client";
import { TENANT_ROLES } from "./access";
import { prisma as defaultPrisma } from "./db";

/** The kit's load context, when a loader runs inside a pass: its reads are shared (`ctx.once`). */
type Shared = Pick<LoadContext, "once">;

export interface TenantSummary {
  id: string;
  slug: string;
  name: string;
  role: string;
}
/** Why {@link authorizeRoleChange} refused. */
export type RoleChangeRefusal = "invalid_role" | "not_admin" | "no_such_member" | "own_role" | "owner_only";

/**
 * The reference app's claim loaders and fresh-authorization checks over one Prisma client.
 *
 * @example
 * ```ts
 * const source = claimsSource(prisma);
 * roles({ roles: ["user", "staff"], load: source.userRole });
 * ```
 */
export function claimsSource(prisma: PrismaClient) {
  /** The user's row as every claim loader needs it, read once per pass when the kit's context is given. */
  function userRow(userId: string, ctx?: Shared) {
    const read = () => prisma.user.findUnique({ where: { id: userId }, select: { role: true, grants: true, tier: true, credits: true, displayName: true, name: true, defaultTenantId: true } });
    return ctx ? ctx.once(`user:${userId}`, read) : read();
  }

  /** The user's membership of one tenant (role and grants), read once per pass when the kit's context is given. */
  function membershipRow(userId: string, tenantId: string, ctx?: Shared) {
    const read = () => prisma.membership.findUnique({ where: { userId_tenantId: { userId, tenantId } }, select: { role: true, grants: true } });
    return ctx ? ctx.once(`membership:${userId}:${tenantId}`, read) : read();
  }

  async function userRole(userId: string, ctx?: Shared): Promise<string | null> {
    return (await userRow(userId, ctx))?.role ?? null;
  }

  const grantList = (csv: string | null | undefined): string[] => (csv ?? "").split(",").map((g) => g.trim()).filter(Boolean);

  /**
   * The user's grants in one tenant (Membership.grants): none when they are not a member, so leaving
   * a tenant takes its grants away.
   *
   * @example
   * ```ts
   * permissions({ set: access, from: ["tenantRole"], tenantGrants: { claim: "tenantId", load: tenantGrants } })
   * ```
   */
  async function tenantGrants(userId: string, tenantId: string, ctx?: Shared): Promise<string[]> {
    return grantList((await membershipRow(userId, tenantId, ctx))?.grants);
  }

  /**
   * The user's global grants (User.grants): they hold in every tenant and without one.
   *
   * @example
   * ```ts
   * permissions({ set: access, from: ["tenantRole"], globalGrants })
   * ```
   */
  async function globalGrants(userId: string, ctx?: Shared): Promise<string[]> {
    return grantList((await userRow(userId, ctx))?.grants);
  }

  /** A tenant switch calls this without `ctx`: the membership is read fresh. */
  async function membership(userId: string, tenantId: string, ctx?: Shared): Promise<{ role: string } | null> {
    const m = await membershipRow(userId, tenantId, ctx);
    return m ? { role: m.role } : null;
  }

  /** The user's default tenant when still a member, else their oldest membership. */
  async function defaultTenant(userId: string, ctx?: Shared): Promise<{ tenantId: string; role: string } | null> {
    const user = await userRow(userId, ctx);
    if (user?.defaultTenantId) {
      const m = await membership(userId, user.defaultTenantId, ctx);
      if (m) return { tenantId: user.defaultTenantId, role: m.role };
    }
    const first = await prisma.membership.findFirst({ where: { userId }, orderBy: { createdAt: "asc" }, select: { tenantId: true, role: true } });
    return first;
  }

  async function billing(userId: string, ctx?: Shared): Promise<{ tier: "free" | "pro"; credits: number } | null> {
    const user = await userRow(userId, ctx);
    if (!user) return null;
    return { tier: user.tier === "pro" ? "pro" : "free", credits: user.credits };
  }


  /** Every tenant the user belongs to: server-side session data (it grows with the user). */
  async function userTenants(userId: string): Promise<TenantSummary[]> {
    const rows = await prisma.membership.findMany({
      where: { userId },
      orderBy: { tenant: { name: "asc" } },
      select: { role: true, tenant: { select: { id: true, slug: true, name: true } } },
    });
    return rows.map((r) => ({ ...r.tenant, role: r.role }));
  }

  async function displayName(userId: string, ctx?: Shared): Promise<string | null> {
    const user = await userRow(userId, ctx);
    // Provider names are cleaned and cut to the claim's limits rather than refused: no control
    // characters (escaped, each would take 6 bytes of the cookie), at most 60 characters.
    const cleaned = (user?.displayName ?? user?.name ?? "").replace(/\p{Cc}/gu, "").slice(0, 60);
    return cleaned.replace(/[\uD800-\uDBFF]$/, "") || null; // never half a surrogate pair
  }

  async function setDisplayName(userId: string, value: string): Promise<void> {
    await prisma.user.update({ where: { id: userId }, data: { displayName: value } });
  }

  // Fresh authorization for server actions that change other people's access. Claims may be up to
  // CLAIMS_MAX_AGE old: an admin demoted a minute ago still carries "admin" in their cookie, so these
  // checks read the caller's current rows instead.


  /**
   * May `callerId` set membership `membershipId` of `tenantId` to `role`, by the database as it is
   * now? Admins and owners may change roles; only an owner makes or unmakes owners; nobody changes
   * their own role; a membership of another tenant is not found.
   *
   * @example
   * ```ts
   * const decision = await authorizeRoleChange(session.user.id, session.claims.tenantId, membershipId, "admin");
   * if (!decision.ok) return; // decision.code says why
   * ```
   */
  async function authorizeRoleChange(
    callerId: string,
    tenantId: string,
    membershipId: string,
    role: string,
  ): Promise<{ ok: true; membership: { id: string; userId: string; role: string } } | { ok: false; code: RoleChangeRefusal }> {
    if (!(TENANT_ROLES as readonly string[]).includes(role)) return { ok: false, code: "invalid_role" };
    const caller = await membership(callerId, tenantId);
    if (caller?.role !== "admin" && caller?.role !== "owner") return { ok: false, code: "not_admin" };
    const target = await prisma.membership.findFirst({ where: { id: membershipId, tenantId }, select: { id: true, userId: true, role: true } });
    if (!target) return { ok: false, code: "no_such_member" };
    if (target.userId === callerId) return { ok: false, code: "own_role" };
    if ((role === "owner" || target.role === "owner") && caller.role !== "owner") return { ok: false, code: "owner_only" };
    return { ok: true, membership: target };
  }

  /**
   * Whether the user is staff now (global role, from the database), for staff-only actions.
   *
   * @example
   * ```ts
   * if (!(await isStaff(session.user.id))) return;
   * ```
   */
  async function isStaff(userId: string): Promise<boolean> {
    return (await userRole(userId)) === "staff";
  }

  return { userRole, tenantGrants, globalGrants, membership, defaultTenant, billing, userTenants, displayName, setDisplayName, authorizeRoleChange, isStaff };
}

/** Bound to the app's own client (`app/_lib/db.ts`), for pages and server actions. */
export const { authorizeRoleChange, isStaff } = claimsSource(defaultPrisma);
