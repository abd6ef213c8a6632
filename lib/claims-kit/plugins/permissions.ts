import { claim, is } from "../engine/claim";
import { invalidOption } from "../engine/errors";
import type { Awaitable, ClaimSpec, ClaimsPlugin, LoadContext, TokenView } from "../engine/types";

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const PERMISSION_NAME = /^[a-z][a-z0-9_-]*(:[a-z0-9_*-]+)*$/;
const ENCODED = /^[0-9a-z]{1,7}\.[A-Za-z0-9_-]*$/;

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

/**
 * The hash of everything a token's permissions were derived from: the bit order AND the role map.
 * Without the role map, a token minted before a role lost a permission would keep that bit until
 * the session ended. Roles are sorted by name and each role's list by bit, so reordering object
 * keys or list entries (which changes nothing) keeps the fingerprint.
 */
function catalogFingerprint(permissions: readonly string[], byRole: ReadonlyMap<string, readonly string[]>, index: ReadonlyMap<string, number>): string {
  const roles = [...byRole.keys()]
    .sort()
    .map((role) => [role, [...new Set(byRole.get(role))].sort((a, b) => index.get(a)! - index.get(b)!)] as const);
  // JSON, not ad-hoc joins: role names are free text and must not be able to forge a separator.
  return fnv1a(JSON.stringify([permissions, roles]));
}

/** Anything that carries the compact permissions claim: a session, a token, or `null`. */
export type HasPermissions = { claims?: { permissions?: unknown } } | { permissions?: unknown } | null | undefined;

/** A permission catalog with its role map, and the compact codec for it. */
export interface PermissionSet<P extends string, R extends string> {
  readonly permissions: readonly P[];
  /**
   * Short hash of the catalog and its role map; tokens encoded under another catalog or role map
   * decode to no permissions (and the {@link permissions} plugin re-derives them).
   */
  readonly fingerprint: string;
  /** Encode as `<fingerprint>.<base64url bitset>`: 64 permissions fit in 11 characters. */
  encode(list: Iterable<string>): string;
  /** Decode; anything malformed or from another catalog gives the empty set (fail closed). */
  decode(encoded: unknown): Set<P>;
  /** The role's permissions (empty for an unknown role). */
  forRole(role: R | (string & {}) | undefined | null): P[];
  /**
   * Whether a session (or token) has a permission. Works in server components, route handlers,
   * server actions and client components alike: it only decodes the claim.
   */
  can(subject: HasPermissions, permission: P): boolean;
}

/**
 * Declare the app's permissions and which roles have them. The order of `permissions` is the bit
 * order in tokens: append new permissions at the end. Reordering them, or changing which
 * permissions a role has, changes the fingerprint: tokens from before decode to no permissions and
 * the {@link permissions} plugin re-derives them from the new map on their next request.
 *
 * @example
 * ```ts
 * export const access = definePermissions({
 *   permissions: ["invoice:read", "invoice:delete"],
 *   roles: { admin: "*", member: ["invoice:read"] },
 * });
 * access.can(session, "invoice:delete");
 * ```
 */
export function definePermissions<const P extends string, const R extends string>(def: {
  permissions: readonly P[];
  roles: Record<R, readonly P[] | "*">;
}): PermissionSet<P, R> {
  const where = "definePermissions";
  if (!Array.isArray(def?.permissions) || def.permissions.length === 0) invalidOption(where, "permissions", "must be a non-empty array");
  const index = new Map<string, number>();
  def.permissions.forEach((p, i) => {
    if (typeof p !== "string" || !PERMISSION_NAME.test(p)) invalidOption(where, `permissions[${i}]`, `is not a valid permission name (${JSON.stringify(p)})`);
    if (index.has(p)) invalidOption(where, `permissions[${i}]`, `repeats "${p}"`);
    index.set(p, i);
  });
  if (!def.roles || typeof def.roles !== "object") invalidOption(where, "roles", "must map role names to permission lists");
  const byRole = new Map<string, P[]>();
  for (const [role, list] of Object.entries(def.roles as Record<string, readonly P[] | "*">)) {
    if (list === "*") {
      byRole.set(role, [...def.permissions]);
      continue;
    }
    if (!Array.isArray(list)) invalidOption(where, `roles.${role}`, 'must be an array of permissions or "*"');
    for (const p of list) if (!index.has(p)) invalidOption(where, `roles.${role}`, `names unknown permission "${p}"`);
    byRole.set(role, [...list]);
  }
  const fingerprint = catalogFingerprint(def.permissions, byRole, index);

  function encode(list: Iterable<string>): string {
    const bits: number[] = new Array(Math.ceil(def.permissions.length / 6)).fill(0);
    for (const p of list) {
      const i = index.get(p);
      if (i !== undefined) bits[Math.floor(i / 6)]! |= 1 << (i % 6);
    }
    let end = bits.length;
    while (end > 0 && bits[end - 1] === 0) end--;
    return `${fingerprint}.${bits.slice(0, end).map((b) => B64[b]).join("")}`;
  }

  function decode(encoded: unknown): Set<P> {
    const out = new Set<P>();
    if (typeof encoded !== "string" || !ENCODED.test(encoded)) return out;
    const [fp, body] = encoded.split(".") as [string, string];
    if (fp !== fingerprint) return out;
    for (let c = 0; c < body.length; c++) {
      const v = B64.indexOf(body[c]!);
      for (let b = 0; b < 6; b++) {
        const p = def.permissions[c * 6 + b];
        if (v & (1 << b) && p !== undefined) out.add(p);
      }
    }
    return out;
  }

  return {
    permissions: def.permissions,
    fingerprint,
    encode,
    decode,
    forRole: (role) => (role ? [...(byRole.get(role) ?? [])] : []),
    can(subject, permission) {
      if (!subject) return false;
      const raw = "claims" in subject ? subject.claims?.permissions : "permissions" in subject ? subject.permissions : undefined;
      return decode(raw).has(permission);
    },
  };
}

/**
 * Grants scoped to one tenant: see {@link PermissionsOptions.tenantGrants}.
 *
 * @example
 * ```ts
 * const tenantGrants: TenantGrantsOption = {
 *   claim: "tenantId",
 *   load: async (userId, tenantId) => (await db.membership(userId, tenantId))?.grants ?? [],
 * };
 * ```
 */
export interface TenantGrantsOption {
  /**
   * The claim holding the current tenant's id, e.g. `"tenantId"` from `tenant()`. Put
   * `permissions()` after the plugin owning it: grants are re-loaded whenever it changes.
   */
  claim: string;
  /**
   * The user's grants in that tenant only (e.g. from their membership row); return nothing when
   * they are not a member. Never called when the token holds no tenant.
   */
  load(userId: string, tenantId: string, ctx?: LoadContext): Awaitable<Iterable<string>>;
}

/**
 * Options of {@link permissions}.
 *
 * @example
 * ```ts
 * const options: PermissionsOptions<Permission, Role> = {
 *   set: access,
 *   from: ["tenantRole"],
 *   tenantGrants: { claim: "tenantId", load: (userId, tenantId) => db.membershipGrants(userId, tenantId) },
 * };
 * ```
 */
export interface PermissionsOptions<P extends string, R extends string> {
  set: PermissionSet<P, R>;
  /**
   * Claims holding the role to derive from, first present wins, e.g. `["tenantRole", "role"]`.
   * The plugin re-derives when any of them changes, so put it after the plugins owning them.
   */
  from: readonly string[];
  /**
   * Grants on top of the role's that hold in one tenant only: loaded for the tenant named by the
   * token's `claim`, re-loaded when that claim changes (tenant switch, membership gone), none when
   * the token has no tenant. What a tenant's admin grants belongs here. Unknown names are ignored
   * with a warning.
   */
  tenantGrants?: TenantGrantsOption;
  /**
   * Grants that hold everywhere: in every tenant, and with no tenant at all (e.g. a support
   * engineer's read access). A separate kind on purpose, for grants no single tenant controls;
   * prefer {@link PermissionsOptions.tenantGrants}. Unknown names are ignored with a warning.
   */
  globalGrants?(userId: string, ctx?: LoadContext): Awaitable<Iterable<string>>;
  /**
   * @deprecated Removed, and refused at start-up: per-user grants that applied in every tenant
   * (and after the user left them all). Use `tenantGrants` or, deliberately, `globalGrants`.
   */
  grants?: never;
}

/**
 * Permissions derived from a role plus optional tenant-scoped and global grants, stored as one
 * compact claim `permissions` (`"<fingerprint>.<bitset>"`), read with
 * `set.can(session, "invoice:delete")`. A token encoded under another catalog or role map is
 * re-derived on its next request.
 *
 * @example
 * ```ts
 * permissions({
 *   set: access,
 *   from: ["tenantRole"],
 *   tenantGrants: { claim: "tenantId", load: (userId, tenantId) => loadMembershipGrants(userId, tenantId) },
 *   globalGrants: (userId) => loadGlobalGrants(userId),
 * })
 * ```
 */
export function permissions<P extends string, R extends string>(
  options: PermissionsOptions<P, R>,
): ClaimsPlugin<"permissions", { permissions: ClaimSpec<string, "client"> }> {
  const where = "permissions";
  const { set, from, tenantGrants, globalGrants } = options ?? {};
  if (!set || typeof set.encode !== "function") invalidOption(where, "set", "must come from definePermissions()");
  if (!Array.isArray(from) || from.length === 0) invalidOption(where, "from", "must name at least one role claim");
  from.forEach((name, i) => {
    if (typeof name !== "string" || name === "") invalidOption(where, `from[${i}]`, "must be a claim name");
  });
  // The old option gave every per-user grant to every tenant; refusing it (rather than mapping it
  // to one of the new kinds) makes each app decide which kind its grants really are.
  if ((options as { grants?: unknown }).grants !== undefined) {
    invalidOption(where, "grants", 'was removed: use "tenantGrants" (grants in the token\'s tenant only) or "globalGrants" (grants in every tenant)');
  }
  if (tenantGrants !== undefined) {
    if (!tenantGrants || typeof tenantGrants !== "object") invalidOption(where, "tenantGrants", "must be { claim, load }");
    if (typeof tenantGrants.claim !== "string" || tenantGrants.claim === "") invalidOption(where, "tenantGrants.claim", 'must name the claim holding the tenant id, e.g. "tenantId"');
    if (typeof tenantGrants.load !== "function") invalidOption(where, "tenantGrants.load", "must be a function (userId, tenantId) => grants");
  }
  if (globalGrants !== undefined && typeof globalGrants !== "function") invalidOption(where, "globalGrants", "must be a function (userId) => grants");
  const known = new Set<string>(set.permissions);

  const roleOf = (token: TokenView): string | undefined => {
    for (const name of from) if (typeof token[name] === "string") return token[name] as string;
    return undefined;
  };
  const tenantOf = (token: TokenView): string | undefined => {
    const id = tenantGrants ? token[tenantGrants.claim] : undefined;
    return typeof id === "string" && id !== "" ? id : undefined;
  };

  /** `ctx`: on loads, handed to the grant loaders (`ctx.once` shares their reads with other plugins'). */
  async function derive(token: TokenView, userId: string | undefined, log: { warn(m: string): void }, ctx?: LoadContext): Promise<string> {
    const list: string[] = set.forRole(roleOf(token));
    if (!userId) return set.encode(list);
    const tenantId = tenantOf(token);
    const [global, scoped] = await Promise.all([
      globalGrants ? globalGrants(userId, ctx) : [],
      tenantGrants && tenantId ? tenantGrants.load(userId, tenantId, ctx) : [],
    ]);
    for (const [kind, grants] of [["global", global], ["tenant", scoped]] as const) {
      for (const g of grants) {
        if (known.has(g)) list.push(g);
        else log.warn(`permissions: ignoring unknown grant ${JSON.stringify(String(g).slice(0, 64))} (${kind})`);
      }
    }
    return set.encode(list);
  }

  return {
    id: "permissions",
    claims: { permissions: claim.client<string>(is.string) },
    // A tenant switch between two tenants where the user has the same role changes no role claim,
    // but it must still swap the tenant grants.
    reloadOn: tenantGrants && !from.includes(tenantGrants.claim) ? [...from, tenantGrants.claim] : from,
    async load(ctx) {
      return { permissions: await derive(ctx.token, ctx.userId, ctx.log, ctx) };
    },
    async jwt(ctx) {
      // Encoded under an older catalog or role map: re-derive instead of trusting stale bits.
      const current = ctx.token.permissions;
      if (typeof current === "string" && !current.startsWith(`${set.fingerprint}.`)) {
        return { permissions: await derive(ctx.token, ctx.userId, ctx.log) };
      }
      return undefined;
    },
  };
}
