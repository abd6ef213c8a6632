// The back-off after failed refresh attempts: pure arithmetic on the kit's clock (seconds), shared
// by both modes. Vault mode keeps the state in the vault row (every instance reads it), cookie mode
// in the `oauth` claim (and in this process's memory, for requests still carrying the older cookie).
import type { RefreshErrorCode } from "./token-endpoint";

/**
 * How long to wait after failed attempts: exponential from `initialSeconds`, doubling per failure
 * in a row up to `maxSeconds`, with jitter that only ever shortens a step (by up to a quarter), so
 * instances and grants that failed together spread out and the step in force is never exceeded.
 *
 * @example
 * ```ts
 * const policy: BackoffPolicy = { initialSeconds: 1, maxSeconds: 300, random: Math.random };
 * ```
 */
export interface BackoffPolicy {
  initialSeconds: number;
  maxSeconds: number;
  /** A number in [0, 1); tests pass a constant. */
  random: () => number;
}

/**
 * A grant's back-off, as the cookie claim carries it (`b`): failed attempts in a row (`n`), the
 * time before which nobody calls the provider (`r`, seconds), and the last attempt's code (`c`).
 *
 * @example
 * ```ts
 * const b: BackoffState = { n: 2, r: 1_800_000_002, c: "server_error" };
 * ```
 */
export interface BackoffState {
  n: number;
  r: number;
  c: RefreshErrorCode;
}

/** The share of a step that jitter may take off. */
const JITTER = 0.25;

/**
 * The step in force after `failures` failed attempts in a row (seconds, before jitter).
 *
 * @example
 * ```ts
 * backoffStep(4, { initialSeconds: 1, maxSeconds: 300, random: Math.random }); // 8
 * ```
 */
export function backoffStep(failures: number, policy: BackoffPolicy): number {
  return Math.min(policy.maxSeconds, policy.initialSeconds * 2 ** Math.max(0, Math.min(failures - 1, 30)));
}

/**
 * The back-off after one more failed attempt at `now`: the next step (jittered down, at least a
 * second), and never before the provider's Retry-After.
 *
 * @example
 * ```ts
 * const next = nextBackoff(previous, "server_error", now, undefined, policy); // { n: 1, r: now + 1, c: "server_error" }
 * ```
 */
export function nextBackoff(previous: BackoffState | undefined, code: RefreshErrorCode, now: number, retryAfter: number | undefined, policy: BackoffPolicy): BackoffState {
  const n = (previous?.n ?? 0) + 1;
  const step = backoffStep(n, policy);
  const jittered = Math.max(1, Math.ceil(step * (1 - JITTER * Math.min(Math.max(policy.random(), 0), 1))));
  return { n, r: now + Math.max(jittered, retryAfter ?? 0), c: code };
}

/**
 * Whether a grant is backing off at `now` (no provider call before `r`).
 *
 * @example
 * ```ts
 * if (claim.b && backingOff(claim.b, now)) return servedWithoutCalling();
 * ```
 */
export const backingOff = (b: BackoffState, now: number): boolean => now < b.r;

/**
 * What a request is told while its grant backs off (no provider call made).
 *
 * @example
 * ```ts
 * backoffDetail({ n: 2, r: 1_800_000_002, c: "timeout" }); // "refresh failed 2 times in a row (last: timeout); next attempt at 1800000002"
 * ```
 */
export const backoffDetail = (b: BackoffState) => `refresh failed ${b.n} time${b.n === 1 ? "" : "s"} in a row (last: ${b.c}); next attempt at ${b.r}`;
