import type { ClaimSpec } from "./types";

type Check = (value: unknown) => boolean;

function spec<T, V extends "client" | "token" | "server">(visibility: V, check?: Check): ClaimSpec<T, V> {
  return check ? { visibility, check } : { visibility };
}

/**
 * Claim declarations, one per visibility. The type parameter is the claim's value type; the
 * optional check runs on every value written and refuses the write when it returns false.
 *
 * @example
 * ```ts
 * const claims = {
 *   tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])),
 *   accessToken: claim.token<string>(is.string),
 *   groups: claim.server<string[]>(),
 * };
 * ```
 */
export const claim = {
  /** In the token and in the session the client sees. */
  client: <T>(check?: Check): ClaimSpec<T, "client"> => spec<T, "client">("client", check),
  /** In the encrypted token only; server code reads it with `readToken()`. */
  token: <T>(check?: Check): ClaimSpec<T, "token"> => spec<T, "token">("token", check),
  /** Kept in the server-side store, with only the session id in the token. */
  server: <T>(check?: Check): ClaimSpec<T, "server"> => spec<T, "server">("server", check),
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
