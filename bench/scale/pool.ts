// Worker processes (worker.ts), each behind a counting relay of its own (bench/postgres.ts): the
// relay counts every statement the process sends to PostgreSQL (Prisma's, the change feed's
// LISTEN/NOTIFY/heartbeats), the worker counts its Prisma statements by kind.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { countingRelay, type CountingRelay } from "../postgres";
import type { Kind, ReadResult, WorkerInit } from "./worker";

const WORKER = path.join(import.meta.dirname, "worker.ts");

export interface WorkerStats {
  cpuUs: number;
  rss: number;
  heapUsed: number;
  statements: Record<Kind, number>;
  registry: { hits: number; coldHits: number; misses: number; syncs: number } | null;
  at: number;
}

export class Worker {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(readonly child: ChildProcess, readonly relay: CountingRelay) {
    child.on("message", (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(m.error));
    });
    child.on("exit", (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`worker ${child.pid} exited (${code})`));
      this.pending.clear();
    });
  }

  static async start(init: WorkerInit, options: { gc?: boolean } = {}): Promise<Worker> {
    const relay = await countingRelay(init.url);
    const child = fork(WORKER, [], {
      execArgv: ["--import", "tsx", ...(options.gc ? ["--expose-gc"] : [])],
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`worker exited before it was ready (${code})`)));
    });
    const worker = new Worker(child, relay);
    await worker.call("init", { ...init, url: relay.url });
    return worker;
  }

  call<T = unknown>(op: string, args: unknown = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op, args });
    });
  }

  read(cookie: string): Promise<ReadResult> {
    return this.call<ReadResult>("read", { cookie });
  }

  stats(): Promise<WorkerStats> {
    return this.call<WorkerStats>("stats");
  }

  /** Every statement the process sent so far (the relay's count). */
  statements(): number {
    return this.relay.statements();
  }

  pause(): void {
    this.child.kill("SIGSTOP");
  }

  resume(): void {
    this.child.kill("SIGCONT");
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await Promise.race([this.call("close"), new Promise((r) => setTimeout(r, 5000))]).catch(() => undefined);
      this.child.kill("SIGTERM");
      if (this.child.exitCode === null) await new Promise((r) => this.child.once("exit", r));
    }
    await this.relay.close();
  }
}

/** `n` workers, started two at a time (2 cores), closed together by `close()`. */
export async function startWorkers(n: number, init: WorkerInit, options: { gc?: boolean } = {}): Promise<{ workers: Worker[]; close: () => Promise<void> }> {
  const workers: Worker[] = [];
  const close = () => Promise.all(workers.map((w) => w.close())).then(() => undefined);
  try {
    for (let i = 0; i < n; i += 2) workers.push(...(await Promise.all(Array.from({ length: Math.min(2, n - i) }, () => Worker.start(init, options)))));
  } catch (err) {
    await close();
    throw err;
  }
  return { workers, close };
}
