import { claim, is } from "../core/claim";
import { invalidOption } from "../core/errors";
import type { Awaitable, ClaimSpec, ClaimsPlugin, TokenView } from "../core/types";

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

/** Anything that carries the compact permissions claim: a session, a token, or `null`. */
export type HasPermissions = { claims?: { permissions?: unknown } } | { permissions?: unknown } | null | undefined;

/** A permission catalog with its role map, and the compact codec for it. */
export interface PermissionSet<P extends string, R extends string> {
  readonly permissions: readonly P[];
  /** Short hash of the catalog; tokens encoded under another catalog decode to no permissions. */
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
 * order in tokens: append new permissions at the end (reordering changes the fingerprint, and
 * tokens from before are re-derived on their next request).
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
  const fingerprint = fnv1a(def.permissions.join(","));

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

/** Options of {@link permissions}. */
export interface PermissionsOptions<P extends string, R extends string> {
  set: PermissionSet<P, R>;
  /**
   * Claims holding the role to derive from, first present wins, e.g. `["tenantRole", "role"]`.
   * The plugin re-derives when any of them changes, so put it after the plugins owning them.
   */
  from: readonly string[];
  /** Per-user grants on top of the role's (unknown names are ignored with a warning). */
  grants?(userId: string): Awaitable<Iterable<string>>;
}

/**
 * Permissions derived from a role (and optional per-user grants), stored as one compact claim
 * `permissions` (`"<fingerprint>.<bitset>"`), read with `set.can(session, "invoice:delete")`.
 *
 * @example
 * ```ts
 * permissions({ set: access, from: ["tenantRole"], grants: (id) => loadGrants(id) })
 * ```
 */
export function permissions<P extends string, R extends string>(
  options: PermissionsOptions<P, R>,
): ClaimsPlugin<"permissions", { permissions: ClaimSpec<string, "client"> }> {
  const { set, from } = options ?? {};
  if (!set || typeof set.encode !== "function") invalidOption("permissions", "set", "must come from definePermissions()");
  if (!Array.isArray(from) || from.length === 0) invalidOption("permissions", "from", "must name at least one role claim");
  const known = new Set<string>(set.permissions);

  const roleOf = (token: TokenView): string | undefined => {
    for (const name of from) if (typeof token[name] === "string") return token[name] as string;
    return undefined;
  };

  async function derive(token: TokenView, userId: string | undefined, log: { warn(m: string): void }): Promise<string> {
    const list: string[] = set.forRole(roleOf(token));
    if (options.grants && userId) {
      for (const g of await options.grants(userId)) {
        if (known.has(g)) list.push(g);
        else log.warn(`permissions: ignoring unknown grant ${JSON.stringify(String(g).slice(0, 64))}`);
      }
    }
    return set.encode(list);
  }

  return {
    id: "permissions",
    claims: { permissions: claim.client<string>(is.string) },
    reloadOn: from,
    async load(ctx) {
      return { permissions: await derive(ctx.token, ctx.userId, ctx.log) };
    },
    async jwt(ctx) {
      // A token encoded under an older catalog: re-derive instead of trusting stale bit positions.
      const current = ctx.token.permissions;
      if (typeof current === "string" && !current.startsWith(`${set.fingerprint}.`)) {
        return { permissions: await derive(ctx.token, ctx.userId, ctx.log) };
      }
      return undefined;
    },
  };
}
