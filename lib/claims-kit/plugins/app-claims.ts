import { invalidOption } from "../engine/errors";
import type { Awaitable, ClaimMap, ClaimsPlugin, IntentSchemas, IntentSpecs, LoadContext, Patch, RequestContext } from "../engine/types";

/** Definition accepted by {@link appClaims}. */
export interface AppClaimsDefinition<Id extends string, C extends ClaimMap, S extends IntentSchemas> {
  id: Id;
  claims: C;
  /** Hook: (re)derive the claims from the source of truth (sign-in, refreshes). */
  load?(ctx: LoadContext): Awaitable<Patch<C> | undefined>;
  /** Hook: runs on every `jwt()` call. Keep it cheap. */
  jwt?(ctx: RequestContext): Awaitable<Patch<C> | undefined>;
  /** Named updates the client may ask for; each handler's input is typed from its schema. */
  intents?: IntentSpecs<C, S>;
  reloadOn?: readonly string[];
  /** Re-load after this many seconds (overrides the kit's `freshness.maxAge`). */
  maxAge?: number;
}

/**
 * Any app claims from a loader: tier, credits, locale, feature flags. `load` runs on sign-in and
 * whenever claims are refreshed; return only the claims declared in `claims`. Intents are typed
 * from their schemas: `handle` receives the schema's output, the client sends its input.
 *
 * @example
 * ```ts
 * appClaims({
 *   id: "profile",
 *   claims: { displayName: claim.client<string>(is.stringMax(60)) },
 *   load: async ({ userId }) => ({ displayName: (await db.user(userId))?.displayName ?? null }),
 *   intents: {
 *     setDisplayName: {
 *       input: z.object({ displayName: z.string().trim().min(1).max(60) }),
 *       handle: ({ displayName }) => ({ displayName }),
 *       commit: ({ displayName }, { userId }) => db.setDisplayName(userId!, displayName),
 *     },
 *   },
 * })
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}`: no intents unless given
export function appClaims<const Id extends string, C extends ClaimMap, const S extends IntentSchemas = {}>(
  def: AppClaimsDefinition<Id, C, S>,
): ClaimsPlugin<Id, C, S, never> {
  const where = `appClaims(${JSON.stringify(def?.id)})`;
  if (!def || typeof def !== "object") invalidOption("appClaims", "definition", "must be an object");
  if (typeof def.claims !== "object" || def.claims === null) invalidOption(where, "claims", "must be an object of claim specs");
  if (!def.load && !def.jwt && !def.intents) invalidOption(where, "load", "is required (or jwt/intents): a plugin must produce its claims somehow");
  return def as ClaimsPlugin<Id, C, S, never>;
}
