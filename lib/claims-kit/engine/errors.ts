/** Start-up (configuration) errors: thrown by `claimsKit()` and the builders, naming the option. */
export type StartupErrorCode = "invalid_option" | "duplicate_plugin" | "claim_conflict" | "claim_protected" | "claim_sensitive";

/**
 * Request-time codes the kit records for any plugin's step (`session.errors[pluginId]`), and for
 * its own (`session.errors.kit`). Plugins add their own codes (`tenant`: `not_a_member`, `oauth`:
 * the refresh codes, the size budget: `budget_exceeded`).
 */
export type StepErrorCode = "claim_not_owned" | "claim_invalid" | "claim_protected" | "claim_sensitive" | "plugin_failed" | "load_failed";

/** Request-time codes of a rejected `update()` (`session.update.code`), besides a plugin's own. */
export type UpdateErrorCode = "update_malformed" | "unknown_intent" | "invalid_input" | "forbidden" | "not_signed_in";

/**
 * Sign-in codes thrown from a provider's `profile()` wrapped by `withUserinfo()` (Auth.js then
 * refuses the sign-in and logs the error): the userinfo request failed (network, timeout, an error
 * answer, no userinfo endpoint), or userinfo named another subject than the id_token.
 *
 * @example
 * ```ts
 * const code: SignInErrorCode = "userinfo_sub_mismatch";
 * ```
 */
export type SignInErrorCode = "userinfo_failed" | "userinfo_sub_mismatch";

/**
 * Every code the kit's core itself reports. Stable: apps and tests may match on them. Start-up
 * errors are thrown; request-time failures become data on the token because a throw inside
 * `jwt()` signs the user out.
 */
export type KitErrorCode = StartupErrorCode | StepErrorCode | UpdateErrorCode | SignInErrorCode;

/**
 * The toolkit's one error class. `code` is one of the kit's codes or a plugin's own (each plugin
 * exports its codes, e.g. `TenantErrorCode`).
 *
 * @example
 * ```ts
 * try { claimsKit({ plugins: [roles(), roles()] }) }
 * catch (e) { if (e instanceof ClaimsKitError && e.code === "duplicate_plugin") ... }
 * ```
 */
export class ClaimsKitError extends Error {
  readonly code: KitErrorCode | (string & {});
  /**
   * For `invalid_option`: the option at fault, as named in the message (`"algorithms"`), so an app
   * that reads its options from the environment can name its own variable.
   */
  readonly option?: string;
  constructor(code: KitErrorCode | (string & {}), message: string, options?: { cause?: unknown; option?: string }) {
    super(message, options && "cause" in options ? { cause: options.cause } : undefined);
    this.name = "ClaimsKitError";
    this.code = code;
    if (options?.option !== undefined) this.option = options.option;
  }
}

/** What a failure looks like on the token: the code, and when (seconds since epoch). */
export interface KitErrorRecord {
  code: string;
  at: number;
}

/**
 * Throw a start-up error naming the option at fault.
 *
 * @example
 * ```ts
 * if (!opts.load) invalidOption("roles", "load", "must be a function");
 * ```
 */
export function invalidOption(where: string, option: string, problem: string): never {
  throw new ClaimsKitError("invalid_option", `${where}: option "${option}" ${problem}`, { option });
}

/**
 * Narrow an unknown throw to a code (ClaimsKitError keeps its own, anything else gets `fallback`).
 *
 * @example
 * ```ts
 * catch (err) { recordError(codeOf(err, "plugin_failed")); }
 * ```
 */
export function codeOf(err: unknown, fallback: KitErrorCode): string {
  return err instanceof ClaimsKitError ? err.code : fallback;
}

/** The message of anything thrown. */
export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** One step's result: the caller decides whether (and where) to record a failure. */
export type Outcome<T extends object = object> = ({ ok: true } & T) | Failure;
export type Failure = {
  ok: false;
  code: string;
  detail: string;
  /** The hook threw (a database hiccup may pass on its own), as opposed to a refusal by the rules. */
  thrown?: boolean;
};
