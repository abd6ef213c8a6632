import { claim, is } from "../engine/claim";
import { ClaimsKitError, invalidOption, type TenantErrorCode } from "../engine/errors";
import { stringFields } from "../engine/schema";
import type { Awaitable, ClaimSpec, ClaimsPlugin, LoadContext, StandardSchemaV1 } from "../engine/types";


/** Options of {@link tenant}. */
export interface TenantOptions<R extends string> {
  /** Tenant-scoped roles (e.g. owner, admin, member). */
  roles: readonly R[];
  /** The tenant to start in at sign-in (and to fall back to when a membership is gone). */
  defaultTenant(userId: string, ctx: LoadContext): Awaitable<{ tenantId: string; role: string } | null | undefined>;
  /**
   * The user's membership of one tenant, from the database; `null` when not a member. `ctx`: on
   * loads (sign-in, reloads), to share a read with other loaders (`ctx.once`); absent when a
   * `switchTenant` checks the membership, which reads it fresh.
   */
  membership(userId: string, tenantId: string, ctx?: LoadContext): Awaitable<{ role: string } | null | undefined>;
}

type TenantClaims<R extends string> = { tenantId: ClaimSpec<string, "client">; tenantRole: ClaimSpec<R, "client"> };

/**
 * The current tenant and the user's role in it. On sign-in: the default tenant. On every claims
 * refresh: the membership is checked again (a removed member falls back to the default). The
 * `switchTenant` intent checks membership in the database before the tenant changes; a
 * non-member gets `not_a_member` and keeps the tenant they had.
 *
 * @example
 * ```ts
 * tenant({
 *   roles: ["owner", "admin", "member"],
 *   defaultTenant: (userId) => db.firstMembership(userId),
 *   membership: (userId, tenantId) => db.membership(userId, tenantId),
 * })
 * // client: update({ intent: "switchTenant", input: { tenantId } })
 * ```
 */
export function tenant<const R extends string>(
  options: TenantOptions<R>,
): ClaimsPlugin<"tenant", TenantClaims<R>, { switchTenant: StandardSchemaV1<{ tenantId: string }, { tenantId: string }> }, TenantErrorCode> {
  if (!Array.isArray(options?.roles) || options.roles.length === 0) invalidOption("tenant", "roles", "must be a non-empty array of role names");
  for (const fn of ["defaultTenant", "membership"] as const) {
    if (typeof options[fn] !== "function") invalidOption("tenant", fn, "must be a function");
  }
  const roleCheck = is.oneOf(options.roles);
  const asPatch = (tenantId: string, role: string) => ({ tenantId, tenantRole: role as R });

  return {
    id: "tenant",
    claims: { tenantId: claim.client<string>(is.stringMax(128)), tenantRole: claim.client<R>(roleCheck) },
    errors: ["not_a_member"],
    async load(ctx) {
      if (!ctx.userId) return undefined;
      const current = ctx.token.tenantId;
      if (ctx.reason !== "signIn" && typeof current === "string") {
        const member = await options.membership(ctx.userId, current, ctx);
        if (member) return asPatch(current, member.role);
        ctx.log.info(`tenant: membership gone, falling back to the default tenant`);
      }
      const fallback = await options.defaultTenant(ctx.userId, ctx);
      return fallback ? asPatch(fallback.tenantId, fallback.role) : { tenantId: null, tenantRole: null };
    },
    intents: {
      switchTenant: {
        input: stringFields(["tenantId"], 128),
        // The role is the membership's: older copies of the cookie re-check it themselves.
        chooses: ["tenantId"],
        handle: async (input, ctx) => {
          const member = ctx.userId ? await options.membership(ctx.userId, input.tenantId) : null;
          if (!member) throw new ClaimsKitError("not_a_member" satisfies TenantErrorCode, "the user is not a member of that tenant");
          return asPatch(input.tenantId, member.role);
        },
      },
    },
  };
}
