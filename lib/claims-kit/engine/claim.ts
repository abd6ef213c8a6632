import type { ClaimSpec } from "./types";

type Check = (value: unknown) => boolean;
/** Per-claim options: `maxBytes` caps the value's encoded size in the token (default: the kit's `claimMaxBytes`). */
type ClaimOptions = { maxBytes?: number };

function spec<T, V extends "client" | "token" | "server">(visibility: V, check?: Check, options?: ClaimOptions): ClaimSpec<T, V> {
  return { visibility, ...(check ? { check } : {}), ...(options?.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}) };
}

/**
 * Claim declarations, one per visibility. The type parameter is the claim's value type; the
 * optional check runs on every value written and refuses the write when it returns false (or
 * throws); `maxBytes` caps the value's size as JSON in the token.
 *
 * @example
 * ```ts
 * const claims = {
 *   tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])),
 *   displayName: claim.client<string>(is.stringMax(60), { maxBytes: 242 }),
 *   accessToken: claim.token<string>(is.string),
 *   groups: claim.server<string[]>(),
 * };
 * ```
 */
export const claim = {
  /** In the token and in the session the client sees. */
  client: <T>(check?: Check, options?: ClaimOptions): ClaimSpec<T, "client"> => spec<T, "client">("client", check, options),
  /** In the encrypted token only; server code reads it with `readToken()`. */
  token: <T>(check?: Check, options?: ClaimOptions): ClaimSpec<T, "token"> => spec<T, "token">("token", check, options),
  /** Kept in the server-side store, with only the session id in the token. */
  server: <T>(check?: Check, options?: ClaimOptions): ClaimSpec<T, "server"> => spec<T, "server">("server", check, options),
};

/**
 * Small runtime checks for claim values.
 *
 * @example
 * ```ts
 * claim.client<number>(is.int({ min: 0 }))
 * ```
 */
export const is = {
  string: (v: unknown): boolean => typeof v === "string",
  boolean: (v: unknown): boolean => typeof v === "boolean",
  int:
    (range: { min?: number; max?: number } = {}): Check =>
    (v) =>
      Number.isSafeInteger(v) && (range.min === undefined || (v as number) >= range.min) && (range.max === undefined || (v as number) <= range.max),
  oneOf:
    <T extends string>(values: readonly T[]): Check =>
    (v) =>
      typeof v === "string" && (values as readonly string[]).includes(v),
  stringMax:
    (max: number): Check =>
    (v) =>
      typeof v === "string" && v.length <= max,
};
