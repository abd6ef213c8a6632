// PostgreSQL LISTEN/NOTIFY for the registry cache: its own module (exported from the prisma entry
// only), so an app without PostgreSQL never has its bundler look for the `pg` package.
import { invalidOption } from "../engine/errors";
import type { ChangeFeed } from "../engine/ports";
import { answeredWithin, checkedFeedOptions, feedShell, heartbeat, reason, type FeedTiming } from "./feed-core";

/** The slice of node-postgres' `Client` the feed uses. */
interface PgClient {
  connect(): Promise<unknown>;
  query(sql: string, values?: unknown[]): Promise<unknown>;
  end(): Promise<void>;
  on(event: "notification", listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: "error" | "end", listener: (err?: Error) => void): unknown;
  /** node-postgres' connection and its socket: destroyed when the peer stops answering. */
  connection?: { stream?: { destroy(error?: Error): void } };
}

/**
 * Options of {@link postgresChangeFeed}.
 *
 * @example
 * ```ts
 * const options: PostgresChangeFeedOptions = { heartbeatMs: 1000, answerTimeoutMs: 1000, secret: process.env.AUTH_SECRET, log: console.warn };
 * ```
 */
export interface PostgresChangeFeedOptions extends FeedTiming {
  log?: (message: string) => void;
  /**
   * The LISTEN/NOTIFY channel: lower-case letters, digits and `_`, at most 63. Default
   * `claims_kit_changes`. Every process of one app uses the same; apps whose change logs differ
   * but share a database (one schema each) use one each.
   */
  channel?: string;
}

const DEFAULT_CHANNEL = "claims_kit_changes";

/**
 * PostgreSQL LISTEN/NOTIFY on channel `claims_kit_changes` (or `channel`), over one dedicated listening connection
 * (the `pg` package, loaded on first use). While it is down, `crossProcess` is false (the registry
 * cache then polls the change log every second) and it reconnects with a back-off up to 30 s; once
 * back, subscribers are woken (a change may have been missed meanwhile). The connection is asked a
 * `SELECT 1` every `heartbeatMs` (1 s): one unanswered for `answerTimeoutMs` (1 s) counts as down,
 * so a connection that died silently is noticed within about 2 s. NOTIFYs go over a second
 * connection of their own, one at a time (publishes made meanwhile share the next one); one that
 * gets no answer in time is sent again over a fresh connection, and a failure is logged, never
 * thrown (other processes then learn of the change by polling). With `secret`, a NOTIFY's payload
 * announces its changes, signed, and the other processes apply them without reading the change log.
 *
 * @example
 * ```ts
 * const feed = postgresChangeFeed(process.env.DATABASE_URL!);
 * ```
 */
export function postgresChangeFeed(connectionString: string, options: PostgresChangeFeedOptions = {}): ChangeFeed {
  const { heartbeatMs, answerTimeoutMs, messages } = checkedFeedOptions("postgresChangeFeed", options, invalidOption);
  const channel = options.channel ?? DEFAULT_CHANNEL;
  if (typeof channel !== "string" || !/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) invalidOption("postgresChangeFeed", "channel", "must be lower-case letters, digits and _ (at most 63, not starting with a digit)");
  let client: PgClient | null = null;
  let closed = false;
  let backoff = 1000;
  let starting: Promise<void> | null = null;

  type PgModule = { default: { Client: new (config: { connectionString: string; keepAlive?: boolean; connectionTimeoutMillis?: number }) => PgClient } };
  // Loaded at run time only (bundlers are told to leave it): an app without PostgreSQL needs no `pg`.
  const loadPg = async () => ((await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "pg")) as unknown as PgModule).default;

  /** Close a connection without waiting on a peer that may never answer. */
  function shut(connection: PgClient, graceful: boolean): Promise<void> {
    if (!graceful) connection.connection?.stream?.destroy();
    return answeredWithin(connection.end(), answerTimeoutMs).catch(() => connection.connection?.stream?.destroy());
  }

  /** The connection NOTIFYs go over: never the listening one (pg runs one query at a time per client). */
  let publisher: PgClient | null = null;
  async function openPublisher(): Promise<PgClient> {
    const pg = await loadPg();
    const next = new pg.Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 2000 });
    const gone = () => {
      if (publisher === next) publisher = null;
    };
    next.on("error", gone);
    next.on("end", gone);
    try {
      await answeredWithin(next.connect(), 2000);
    } catch (err) {
      void shut(next, false);
      throw err;
    }
    return next;
  }
  /** One NOTIFY: over the kept connection, and once more over a fresh one when that fails or stays silent. */
  async function notify(message: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const connection = publisher ?? (publisher = await openPublisher());
      try {
        await answeredWithin(connection.query("SELECT pg_notify($1, $2)", [channel, message]), answerTimeoutMs);
        if (closed && publisher === connection) {
          publisher = null;
          void shut(connection, true);
        }
        return;
      } catch (err) {
        if (publisher === connection) publisher = null;
        void shut(connection, false);
        if (attempt >= 2) throw err;
      }
    }
  }

  const shell = feedShell({
    sendName: "NOTIFY",
    send: notify,
    messages,
    log: options.log,
    onSubscribe: () => void (starting ??= start().catch(() => undefined)),
    async close() {
      closed = true;
      stopHeartbeat();
      const current = client;
      // `lost` ignores a connection that is no longer current: no reconnect after this.
      client = null;
      const sender = publisher;
      publisher = null;
      await Promise.all([current ? shut(current, true) : undefined, sender ? shut(sender, true) : undefined]);
    },
  });
  const { wake, receive, setConnected } = shell;

  /** Stops the current connection's heartbeat. */
  let stopHeartbeat: () => void = () => undefined;

  async function start(): Promise<void> {
    if (closed) return;
    const pg = await loadPg();
    const next = new pg.Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 5000 });
    const lost = (err?: Error) => {
      if (client !== next) return;
      setConnected(false);
      client = null;
      stopHeartbeat();
      options.log?.(`change feed: connection lost${err ? ` (${err.message})` : ""}; polling until it is back`);
      // A silently dead socket never finishes a graceful end: destroy it (its pending queries fail).
      void shut(next, false);
      const retry = setTimeout(() => void (starting = start().catch(() => undefined)), backoff);
      retry.unref?.();
      backoff = Math.min(backoff * 2, 30_000);
      // Changes may have been missed while the connection was down: look now.
      wake();
    };
    next.on("notification", (message) => {
      if (message.channel === channel) receive(message.payload);
    });
    next.on("error", lost);
    next.on("end", lost);
    client = next;
    try {
      await next.connect();
      await answeredWithin(next.query(`LISTEN ${channel}`), answerTimeoutMs * 5);
      if (client !== next) {
        // Closed (or replaced) while connecting.
        void shut(next, true);
        return;
      }
      setConnected(true);
      backoff = 1000;
      // The only queries on this connection after LISTEN: one heartbeat at a time.
      stopHeartbeat = heartbeat(() => next.query("SELECT 1"), heartbeatMs, answerTimeoutMs, lost);
      wake();
    } catch (err) {
      lost(err instanceof Error ? err : new Error(reason(err)));
    }
  }

  return shell.feed;
}
