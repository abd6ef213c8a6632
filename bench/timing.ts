// In-process timing of a function (awaited when it returns a promise): wall time and the
// process's CPU time (user + system, every thread: WebCrypto work runs on libuv's pool, so wall
// time alone would count its hand-offs, and CPU time alone would hide them).
import { performance } from "node:perf_hooks";
import { median } from "./report";

/** µs per call. */
export interface Cost {
  wall: number;
  cpu: number;
}

async function run(n: number, fn: () => unknown): Promise<Cost> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    const out = fn();
    if (out instanceof Promise) await out;
  }
  const wall = ((performance.now() - start) * 1000) / n;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / n };
}

/** Wall µs per call over `n` calls, after a warm-up of up to 200 calls. */
export async function time(n: number, fn: () => unknown): Promise<number> {
  await run(Math.min(200, n), fn);
  return (await run(n, fn)).wall;
}

/** The medians of `samples` runs of `n` calls each (one warm-up first): steadier for small costs. */
export async function timeMedian(samples: number, n: number, fn: () => unknown): Promise<Cost> {
  await run(Math.min(200, n), fn);
  const results: Cost[] = [];
  for (let s = 0; s < samples; s++) results.push(await run(n, fn));
  return { wall: median(results.map((r) => r.wall)), cpu: median(results.map((r) => r.cpu)) };
}
