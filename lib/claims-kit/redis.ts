/**
 * A Redis change feed for the registry cache (`cachedSessionRegistry`): pub/sub through `ioredis`
 * (an optional peer dependency, loaded on first use), beside the PostgreSQL one in
 * `claims-kit/prisma`. Its own entry, so an app without Redis never bundles a reference to it.
 *
 * @packageDocumentation
 * @module claims-kit/redis
 */
export { redisChangeFeed, type RedisChangeFeedOptions, type RedisConnection } from "./stores/redis-change-feed";
export type { FeedTiming } from "./stores/feed-core";
