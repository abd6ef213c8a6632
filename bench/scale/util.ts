// Small helpers the sections share: sampling, percentiles, per-second spread.
import { performance } from "node:perf_hooks";
import { percentile } from "../postgres";

export { seeded } from "../refresh-outage";

/** A Zipf(s) sampler over 0..n-1 (rank 0 the hottest): inverse CDF by binary search. */
export function zipf(n: number, s: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) cdf[k] = sum += 1 / (k + 1) ** s;
  return () => {
    const u = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** p50 / p99 / max of `values` (ms), nearest rank. */
export function spread(values: readonly number[]): { p50: number; p99: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return { p50: NaN, p99: NaN, max: NaN, n: 0 };
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1]!, n: sorted.length };
}

/** Events per whole second from `start` (ms) over `seconds`: the mean and the busiest second. */
export function perSecond(times: readonly number[], start: number, seconds: number): { mean: number; max: number } {
  const buckets = new Array<number>(Math.max(1, Math.ceil(seconds))).fill(0);
  for (const t of times) {
    const b = Math.floor((t - start) / 1000);
    if (b >= 0 && b < buckets.length) buckets[b]!++;
  }
  // Only whole seconds: a last partial second would understate the busiest one's share.
  const whole = buckets.slice(0, Math.max(1, Math.floor(seconds)));
  return { mean: whole.reduce((a, b) => a + b, 0) / whole.length, max: Math.max(...whole) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wall clock in ms with sub-ms precision (as worker.ts's wallMs): comparable with the workers' stamps. */
export const wallMs = () => performance.timeOrigin + performance.now();
