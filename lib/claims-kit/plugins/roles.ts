import { claim, is } from "../engine/claim";
import { invalidOption } from "../engine/errors";
import type { Awaitable, ClaimSpec, ClaimsPlugin, LoadContext } from "../engine/types";

/** Options of {@link roles}. */
export interface RolesOptions<R extends string> {
  /** Every role the app knows. A loaded role outside this list is refused (`claim_invalid`). */
  roles: readonly R[];
  /** The user's role from the database; `null` when the user has none. */
  load(userId: string, ctx: LoadContext): Awaitable<R | string | null | undefined>;
}

/**
 * The user's (global) role, loaded from the database on sign-in and on every claims refresh.
 * The user id itself is `session.user.id` (the token's `sub`), set by the kit.
 *
 * @example
 * ```ts
 * roles({ roles: ["user", "staff"], load: async (id) => (await prisma.user.findUnique({ where: { id } }))?.role })
 * ```
 */
export function roles<const R extends string>(options: RolesOptions<R>): ClaimsPlugin<"roles", { role: ClaimSpec<R, "client"> }> {
  if (!Array.isArray(options?.roles) || options.roles.length === 0) invalidOption("roles", "roles", "must be a non-empty array of role names");
  if (typeof options.load !== "function") invalidOption("roles", "load", "must be a function (userId) => role");
  return {
    id: "roles",
    claims: { role: claim.client<R>(is.oneOf(options.roles)) },
    async load(ctx) {
      if (!ctx.userId) return undefined;
      const role = await options.load(ctx.userId, ctx);
      return { role: (role ?? null) as R | null };
    },
  };
}
