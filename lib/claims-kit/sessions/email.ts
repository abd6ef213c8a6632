import type { Result } from "../engine/errors";
/** The outcome of {@link linkableEmail}. */
export type LinkableEmail = Result<{ email: string }, "email_missing" | "email_unsafe", { detail: string }>;

const asciiLower = (value: string) => value.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * The address Auth.js will find and link a sign-in by. Auth.js lower-cases the provider's email
 * with `String#toLowerCase()` before `getUserByEmail()`, so any check that looks a user up must use
 * exactly that value, not the raw claim (databases compare case-sensitively).
 *
 * Unicode lower-casing also folds some non-ASCII characters onto ASCII ones (the Kelvin sign
 * `\u212A` becomes `k`, the dotted `\u0130` becomes `i̇`), so an identity at the provider could
 * present an address that is a different string there and someone else's here. Such addresses are
 * refused (`email_unsafe`): only ASCII letters may change.
 *
 * @example
 * ```ts
 * linkableEmail("Alice@Example.com"); // { ok: true, email: "alice@example.com" }
 * linkableEmail("\u212Aim@example.com"); // { ok: false, kind: "refused", code: "email_unsafe", ... }
 * ```
 */
export function linkableEmail(raw: unknown): LinkableEmail {
  if (typeof raw !== "string" || raw.length === 0) return { ok: false, kind: "refused", code: "email_missing", detail: "the profile has no email" };
  const email = raw.toLowerCase();
  if (email !== asciiLower(raw)) {
    return { ok: false, kind: "refused", code: "email_unsafe", detail: "lower-casing the address changes characters other than ASCII letters" };
  }
  return { ok: true, email };
}
