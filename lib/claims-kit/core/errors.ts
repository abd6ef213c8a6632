/**
 * Every failure the toolkit reports carries one of these codes. They are stable: apps and tests
 * may match on them. Start-up (configuration) errors are thrown; request-time failures become
 * data on the token (see {@link KitErrorRecord}) because a throw inside `jwt()` signs the user out.
 */
export type KitErrorCode =
  // start-up
  | "invalid_option"
  | "duplicate_plugin"
  | "claim_conflict"
  | "claim_protected"
  | "claim_sensitive"
  // request time: plugins
  | "claim_not_owned"
  | "claim_invalid"
  | "plugin_failed"
  | "load_failed"
  // request time: update intents
  | "update_malformed"
  | "unknown_intent"
  | "invalid_input"
  | "forbidden"
  | "not_signed_in"
  // request time: tenant
  | "not_a_member"
  // size budget
  | "budget_exceeded"
  // OAuth refresh (see refresh/token-endpoint.ts)
  | "invalid_grant"
  | "network"
  | "timeout"
  | "server_error"
  | "client_error"
  | "no_refresh_token"
  | "revoked";

/**
 * The toolkit's one error class.
 *
 * @example
 * ```ts
 * try { claimsKit({ plugins: [roles(), roles()] }) }
 * catch (e) { if (e instanceof ClaimsKitError && e.code === "duplicate_plugin") ... }
 * ```
 */
export class ClaimsKitError extends Error {
  readonly code: KitErrorCode;
  constructor(code: KitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ClaimsKitError";
    this.code = code;
  }
}

/** What a failure looks like on the token: the code, and when (seconds since epoch). */
export interface KitErrorRecord {
  code: KitErrorCode | (string & {});
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
  throw new ClaimsKitError("invalid_option", `${where}: option "${option}" ${problem}`);
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
