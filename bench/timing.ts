// In-process timing: µs per call of a function (awaited when it returns a promise).
import { performance } from "node:perf_hooks";
import { median } from "./report";

async function run(n: number, fn: () => unknown): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const out = fn();
    if (out instanceof Promise) await out;
  }
  return ((performance.now() - start) * 1000) / n;
}

/** µs per call over `n` calls, after a warm-up of up to 200 calls. */
export async function time(n: number, fn: () => unknown): Promise<number> {
  await run(Math.min(200, n), fn);
  return run(n, fn);
}

/** The median of `samples` timings of `n` calls each (one warm-up first): steadier for small costs. */
export async function timeMedian(samples: number, n: number, fn: () => unknown): Promise<number> {
  await run(Math.min(200, n), fn);
  const results: number[] = [];
  for (let s = 0; s < samples; s++) results.push(await run(n, fn));
  return median(results);
}
