// Redis for sections 3 and 5: whether a server answers (REDIS_URL, default the project machines'
// 127.0.0.1:6379), the pub/sub channel of this run (a channel of its own, so nothing else on the
// server wakes the bench's processes), and its command counters (INFO commandstats).
import { Redis } from "ioredis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** This run's channel: the bench's workers and writer publish and subscribe here only. */
export const CHANNEL = `bench_scale_${process.pid}`;

function connect(): Redis {
  const client = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1000 });
  client.on("error", () => undefined);
  return client;
}

/** Null when a Redis server answers PING within a second, else why not (said in the tables). */
export async function redisProblem(): Promise<string | null> {
  const client = connect();
  try {
    await Promise.race([client.connect().then(() => client.ping()), new Promise((_, reject) => setTimeout(() => reject(new Error("no answer within 1 s")), 1000))]);
    return null;
  } catch (err) {
    return `no Redis answers at ${new URL(REDIS_URL).host} (${err instanceof Error ? err.message : String(err)}); set REDIS_URL`;
  } finally {
    client.disconnect();
  }
}

/** Calls per command since the server started (INFO commandstats), e.g. { ping: 120, publish: 4 }. */
export async function commandStats(): Promise<Record<string, number>> {
  const client = connect();
  try {
    await client.connect();
    const info = await client.info("commandstats");
    const out: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  } finally {
    client.disconnect();
  }
}

/** A publisher on this run's channel (the polling section's writer): publish, close. */
export async function publisher(): Promise<{ publish: (message: string) => Promise<void>; close: () => void }> {
  const client = connect();
  await client.connect();
  return { publish: async (message) => void (await client.publish(CHANNEL, message)), close: () => client.disconnect() };
}
