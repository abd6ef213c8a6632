// Section 5's simulated instances: `count` registry caches in one process, each with a Prisma
// client (its own connection) and its own change log reader, as `count` app instances would run
// them: with no change feed (the cache reads the log every second), or with the PostgreSQL LISTEN
// feed (one LISTEN connection each, its heartbeat, and the safety poll every 5 s), or with the Redis
// feed (one subscribing Redis connection each, its PING heartbeat, the safety poll of the log).
import { createPrismaClient } from "../../app/_lib/db-client";
import { cachedSessionRegistry, type CachedSessionRegistry } from "../../lib/claims-kit/plugin";
import { postgresChangeFeed, prismaChangeLog, prismaSessionRegistry } from "../../lib/claims-kit/prisma";
import { redisChangeFeed } from "../../lib/claims-kit/redis";
import { BENCH_SECRET } from "../servers";

type Client = ReturnType<typeof createPrismaClient>;
let running: Array<{ registry: CachedSessionRegistry; prisma: Client }> = [];

/** A no-op wake-up source: the cache then polls the log every `pollMs` (what "no change feed" means). */
const noFeed = { crossProcess: false, subscribe: () => () => undefined, publish: async () => undefined };

export const pollers = {
  async start(args: { url: string; count: number; feed: "poll" | "listen" | "redis"; redis?: { url: string; channel: string } }): Promise<number> {
    for (let i = 0; i < args.count; i++) {
      const prisma = createPrismaClient(args.url);
      // Signed with the app's secret, as the reference app composes its feeds.
      const secret = BENCH_SECRET;
      const feed = args.feed === "listen" ? postgresChangeFeed(args.url, { secret }) : args.feed === "redis" ? redisChangeFeed({ url: args.redis!.url, channel: args.redis!.channel, secret }) : noFeed;
      const registry = cachedSessionRegistry(prismaSessionRegistry(prisma), { changes: prismaChangeLog(prisma), feed });
      running.push({ registry, prisma });
      await registry.sync();
      // A cross-process feed connects in the background: each instance is counted once it is up.
      const until = Date.now() + 5000;
      while (args.feed !== "poll" && !feed.crossProcess) {
        if (Date.now() > until) throw new Error(`pollers: the ${args.feed} feed of instance ${i} did not connect within 5 s`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    return running.length;
  },
  async stop(): Promise<void> {
    const all = running;
    running = [];
    for (const { registry, prisma } of all) {
      await registry.close();
      await prisma.$disconnect();
    }
  },
};
