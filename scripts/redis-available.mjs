// Exit 0 when a Redis server answers PING at REDIS_URL (default: local, no password).
import process from "node:process";
import { Redis } from "ioredis";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const client = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
client.on("error", () => undefined);
try {
  await client.connect();
  await client.ping();
  client.disconnect();
  process.exit(0);
} catch {
  client.disconnect();
  process.exit(1);
}
