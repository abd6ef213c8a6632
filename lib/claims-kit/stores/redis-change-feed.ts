// Redis pub/sub for the registry cache: its own entry (`claims-kit/redis`), so an app without Redis
// never has its bundler look for the `ioredis` package. Same contract as the PostgreSQL feed: what
// both share lives in feed-core.ts.
import { invalidOption } from "../engine/errors";
import type { ChangeFeed } from "../engine/ports";
import { answeredWithin, checkedFeedOptions, feedShell, heartbeat, reason, type FeedTiming } from "./feed-core";

/**
 * The slice of an `ioredis` connection the feed uses (an `ioredis` `Redis` instance fits it).
 *
 * @example
 * ```ts
 * import Redis from "ioredis";
 * const client: RedisConnection = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface RedisConnection {
  /** "wait" (not connected yet, `lazyConnect`), "connecting", "ready", "reconnecting", "end"… */
  readonly status: string;
  connect(): Promise<unknown>;
  subscribe(channel: string): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  ping(): Promise<unknown>;
  /** `reconnect`: drop this socket and connect again (ioredis' `disconnect(true)`). */
  disconnect(reconnect?: boolean): void;
  /** A second connection with the same settings, `override` applied (ioredis' `duplicate()`). */
  duplicate(override?: { lazyConnect?: boolean; autoResubscribe?: boolean; enableOfflineQueue?: boolean }): RedisConnection;
  on(event: "message", listener: (channel: string, message: string) => void): unknown;
  on(event: "ready" | "close", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
}

/**
 * Options of {@link redisChangeFeed}: a Redis URL (the feed opens and closes its two connections),
 * or the app's own `ioredis` client (publishes go over it; the feed subscribes over a duplicate of
 * it, which it closes; the client itself stays the app's).
 *
 * @example
 * ```ts
 * const options: RedisChangeFeedOptions = { url: "redis://127.0.0.1:6379", channel: "claims_kit_changes" };
 * ```
 */
export type RedisChangeFeedOptions = ({ url: string; client?: never } | { client: RedisConnection; url?: never }) &
  FeedTiming & {
    /** The pub/sub channel. Default `claims_kit_changes`. Every process of one app uses the same. */
    channel?: string;
    log?: (message: string) => void;
  };

const DEFAULT_CHANNEL = "claims_kit_changes";

/**
 * Redis pub/sub for `cachedSessionRegistry`: a change published by one process wakes every
 * process subscribed to the channel, at a cost to Redis that does not grow with the number of
 * processes polling a database. Two connections (a subscribing connection runs no other command):
 * one subscribes, one publishes. While the subscribing one is down, `crossProcess` is false (the
 * registry cache polls the change log every second); when it is back, subscribers are woken (a
 * message may have been missed meanwhile). It is asked a `PING` every `heartbeatMs` (1 s): one
 * unanswered within `answerTimeoutMs` (1 s) counts as down, so a connection that died silently is
 * noticed within about 2 s. With `secret`, a message announces its changes, signed, and the other
 * processes apply them without reading the change log. Publishes go one at a time (those made
 * meanwhile share the next one), bounded by `answerTimeoutMs`; a failure is logged, never thrown
 * (other processes then learn of the change by polling). `ioredis` is loaded on first use when a `url` is given.
 *
 * @example
 * ```ts
 * const feed = redisChangeFeed({ url: process.env.REDIS_URL!, secret: process.env.AUTH_SECRET });
 * cachedSessionRegistry(prismaSessionRegistry(prisma), { changes: prismaChangeLog(prisma), feed });
 * ```
 */
export function redisChangeFeed(options: RedisChangeFeedOptions): ChangeFeed {
  const where = "redisChangeFeed";
  if ((options.url === undefined) === (options.client === undefined)) invalidOption(where, "url", "or `client` is required (exactly one of them)");
  if (options.url !== undefined && (typeof options.url !== "string" || !/^rediss?:\/\/./.test(options.url))) invalidOption(where, "url", "must be a redis:// or rediss:// URL");
  if (options.client !== undefined && typeof options.client?.duplicate !== "function") invalidOption(where, "client", "must be an ioredis client (it has no duplicate())");
  const channel = options.channel ?? DEFAULT_CHANNEL;
  if (typeof channel !== "string" || channel.length === 0 || channel.length > 200) invalidOption(where, "channel", "must be a non-empty string of at most 200 characters");
  const { heartbeatMs, answerTimeoutMs, messages } = checkedFeedOptions(where, options, invalidOption);
  const log = options.log;

  let subscriber: RedisConnection | null = null;
  let publisher: RedisConnection | null = null;
  let closed = false;
  let starting: Promise<void> | null = null;
  let stopHeartbeat: () => void = () => undefined;

  type IoRedis = new (url: string, options: Record<string, unknown>) => RedisConnection;
  // Loaded at run time only (bundlers are told to leave it): an app without Redis needs no `ioredis`.
  const loadIoRedis = async (): Promise<IoRedis> => {
    const mod = (await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "ioredis")) as unknown as { Redis?: IoRedis; default?: IoRedis | { Redis?: IoRedis } };
    const found = mod.Redis ?? (typeof mod.default === "function" ? mod.default : mod.default?.Redis);
    if (!found) throw new Error("the ioredis package has no Redis class");
    return found;
  };
  /** Reconnects back off as the PostgreSQL feed's do: 1 s doubling up to 30 s. */
  const connection = async (): Promise<RedisConnection> =>
    new (await loadIoRedis())(options.url!, { lazyConnect: true, autoResubscribe: false, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (times: number) => Math.min(1000 * 2 ** Math.min(times - 1, 5), 30_000) });

  const shell = feedShell({
    sendName: "PUBLISH",
    log,
    messages,
    async send(message) {
      let current = publisher;
      if (!current) {
        current = options.client ?? (await connection());
        if (!options.client) current.on("error", () => undefined); // a failed publish says it
        publisher = current;
      }
      if (current.status === "wait") await answeredWithin(current.connect(), answerTimeoutMs);
      await answeredWithin(current.publish(channel, message), answerTimeoutMs);
    },
    onSubscribe: () => void (starting ??= start().catch((err: unknown) => log?.(`change feed: could not start (${reason(err)}); polling`))),
    async close() {
      closed = true;
      stopHeartbeat();
      subscriber?.disconnect(false);
      subscriber = null;
      if (publisher && publisher !== options.client) publisher.disconnect(false);
      publisher = null;
    },
  });
  const { wake, receive, setConnected } = shell;

  /** The subscribing connection is (or may be) down: poll, and look at the log now. Idempotent per outage. */
  let up = false;
  function down(cause: string, conn: RedisConnection, reconnect: boolean): void {
    if (conn !== subscriber) return;
    stopHeartbeat();
    if (up) {
      up = false;
      setConnected(false);
      log?.(`change feed: connection lost (${cause}); polling until it is back`);
      wake();
    }
    // A silently dead socket never closes on its own: drop it, ioredis connects again.
    if (reconnect && !closed) conn.disconnect(true);
  }

  async function start(): Promise<void> {
    const pending = options.client ? options.client.duplicate({ lazyConnect: true, autoResubscribe: false, enableOfflineQueue: false }) : null;
    const conn = pending ?? (await connection());
    if (closed) return conn.disconnect(false);
    subscriber = conn;
    conn.on("message", (from, message) => {
      if (from === channel) receive(message);
    });
    conn.on("error", () => undefined); // "close" follows; reported there
    conn.on("close", () => down("closed", conn, false));
    conn.on("ready", () => {
      if (conn !== subscriber) return;
      // Subscribed afresh on every (re)connection; woken once it holds: a change may have been missed.
      answeredWithin(conn.subscribe(channel), answerTimeoutMs * 5).then(
        () => {
          if (conn !== subscriber || closed) return;
          up = true;
          setConnected(true);
          stopHeartbeat();
          stopHeartbeat = heartbeat(() => conn.ping(), heartbeatMs, answerTimeoutMs, (err) => down(err.message, conn, true));
          wake();
        },
        (err: unknown) => down(`SUBSCRIBE: ${reason(err)}`, conn, true),
      );
    });
    await conn.connect().catch((err: unknown) => log?.(`change feed: connecting failed (${reason(err)}); polling until it is up`));
  }

  return shell.feed;
}
