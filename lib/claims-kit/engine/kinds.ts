// Which codes are failures that may pass on their own (a database or network error) rather than
// refusals by the rules: a Result's `kind`. Apart from the code tables so client bundles stay small.

const FAILED: ReadonlySet<string> = new Set(["network", "timeout", "server_error", "rate_limited", "invalid_id_token", "plugin_failed", "load_failed", "provider_unavailable", "logout_failed", "transmitter_unavailable", "effect_failed", "poll_failed", "busy", "no_response"]);

/**
 * The `kind` of a refusal with this code: `"failed"` for what may pass on its own, else `"refused"`.
 *
 * @example
 * ```ts
 * kindOf("timeout"); // "failed"
 * kindOf("not_a_member"); // "refused"
 * ```
 */
export const kindOf = (code: string): "refused" | "failed" => (FAILED.has(code) ? "failed" : "refused");
