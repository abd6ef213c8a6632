// Who is staff. Stands in for a database lookup; kept apart from kit.ts so it is a plain function.

/** Who is staff (verified addresses, lower-case ASCII); everyone else is "user". */
const STAFF = new Set(["alice@example.com"]);

/**
 * What roles() hands its `load` (the kit's LoadContext), as far as the role depends on it.
 *
 * @example
 * ```ts
 * const atSignIn: RoleContext = { reason: "signIn", profile: { email: "alice@example.com", email_verified: true }, token: {} };
 * ```
 */
export interface RoleContext {
  readonly reason: "signIn" | "refresh" | "dependency";
  readonly profile?: Readonly<Record<string, unknown>>;
  readonly token: Readonly<Record<string, unknown>>;
}

/** A staff address, as the map holds it: ASCII only, so lower-casing cannot fold another character onto one. */
function staffAddress(email: unknown): boolean {
  return typeof email === "string" && /^[\x21-\x7e]+$/.test(email) && STAFF.has(email.toLowerCase());
}

/**
 * The role for a sign-in or a claims refresh. An address grants staff only when the provider says
 * it is verified (`email_verified: true` in the id_token): anyone can open an account at a provider
 * that merely claims `alice@example.com`. Without a database the role cannot be looked up again, so
 * a refresh (which has no profile) keeps staff only for a token that got it at a verified sign-in
 * and whose address is still in the map; it never grants it.
 *
 * @example
 * ```ts
 * roles({ roles: ["user", "staff"], load: (_userId, ctx) => roleOf(ctx) })
 * ```
 */
export function roleOf(ctx: RoleContext): "user" | "staff" {
  if (ctx.reason === "signIn") return ctx.profile?.email_verified === true && staffAddress(ctx.profile.email) ? "staff" : "user";
  return ctx.token.role === "staff" && staffAddress(ctx.token.email) ? "staff" : "user";
}
