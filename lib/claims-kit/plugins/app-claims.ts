import { invalidOption } from "../core/errors";
import type { Awaitable, ClaimMap, ClaimsPlugin, IntentMap, LoadContext, Patch, RequestContext } from "../core/types";

/** Definition accepted by {@link appClaims}. */
export interface AppClaimsDefinition<Id extends string, C extends ClaimMap, I extends IntentMap<C>> {
  id: Id;
  claims: C;
  load?(ctx: LoadContext): Awaitable<Patch<C> | undefined>;
  jwt?(ctx: RequestContext): Awaitable<Patch<C> | undefined>;
  intents?: I;
  reloadOn?: readonly string[];
  /** Re-load after this many seconds (overrides the kit's `freshness.maxAge`). */
  maxAge?: number;
}

/**
 * Any app claims from a loader: tier, credits, locale, feature flags. `load` runs on sign-in and
 * whenever claims are refreshed; return only the claims declared in `claims`.
 *
 * @example
 * ```ts
 * appClaims({
 *   id: "billing",
 *   claims: { tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])) },
 *   load: async ({ userId }) => ({ tier: (await db.user.findUnique({ where: { id: userId } }))?.tier ?? null }),
 * })
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}`: no intents unless given
export function appClaims<const Id extends string, C extends ClaimMap, I extends IntentMap<C> = {}>(
  def: AppClaimsDefinition<Id, C, I>,
): ClaimsPlugin<Id, C, I> {
  const where = `appClaims(${JSON.stringify(def?.id)})`;
  if (!def || typeof def !== "object") invalidOption("appClaims", "definition", "must be an object");
  if (typeof def.claims !== "object" || def.claims === null) invalidOption(where, "claims", "must be an object of claim specs");
  if (!def.load && !def.jwt && !def.intents) invalidOption(where, "load", "is required (or jwt/intents): a plugin must produce its claims somehow");
  return def as ClaimsPlugin<Id, C, I>;
}
