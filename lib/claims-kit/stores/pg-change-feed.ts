// PostgreSQL LISTEN/NOTIFY for the registry cache: its own module (exported from the prisma entry
// only), so an app without PostgreSQL never has its bundler look for the `pg` package.
import { invalidOption } from "../engine/errors";
import type { ChangeFeed } from "../engine/ports";

/** The slice of node-postgres' `Client` the feed uses. */
interface PgClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: "notification", listener: (message: { channel: string }) => void): unknown;
  on(event: "error" | "end", listener: (err?: Error) => void): unknown;
  /** node-postgres' connection and its socket: destroyed when the peer stops answering. */
  connection?: { stream?: { destroy(error?: Error): void } };
}

/**
 * Options of {@link postgresChangeFeed}.
 *
 * @example
 * ```ts
 * const options: PostgresChangeFeedOptions = { heartbeatMs: 1000, answerTimeoutMs: 1000, log: console.warn };
 * ```
 */
export interface PostgresChangeFeedOptions {
  log?: (message: string) => void;
  /**
   * How often the listening connection is asked a `SELECT 1` (ms). Default 1000. A connection that
   * dies silently (a NAT or proxy that stops forwarding without closing it; TCP keepalive's first
   * probe comes after the system's idle time, 2 hours on Linux) would otherwise look up for hours,
   * and other processes' changes would reach this one only through the registry cache's safety poll.
   */
  heartbeatMs?: number;
  /** A heartbeat or NOTIFY unanswered for this long (ms) marks the connection dead. Default 1000. */
  answerTimeoutMs?: number;
}

const CHANNEL = "claims_kit_changes";

/** Resolves with the query's result, or rejects once `ms` have passed without an answer. */
function answeredWithin<T>(query: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref?.();
    query.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * PostgreSQL LISTEN/NOTIFY on channel `claims_kit_changes`, over one dedicated connection (the
 * `pg` package, loaded on first use). While it is down, `crossProcess` is false (the registry cache
 * then polls the change log every second) and it reconnects with a back-off up to 30 s. The
 * connection is asked a `SELECT 1` every `heartbeatMs` (1 s): one unanswered for `answerTimeoutMs`
 * (1 s) counts as down, so a connection that died silently is noticed within about 2 s. A NOTIFY
 * that gets no answer in time is sent over a connection of its own instead.
 *
 * @example
 * ```ts
 * const feed = postgresChangeFeed(process.env.DATABASE_URL!);
 * ```
 */
export function postgresChangeFeed(connectionString: string, options: PostgresChangeFeedOptions = {}): ChangeFeed {
  const heartbeatMs = options.heartbeatMs ?? 1000;
  const answerTimeoutMs = options.answerTimeoutMs ?? 1000;
  for (const [name, value] of [["heartbeatMs", heartbeatMs], ["answerTimeoutMs", answerTimeoutMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 50) invalidOption("postgresChangeFeed", name, "must be a whole number of milliseconds, 50 or more");
  }
  const listeners = new Set<() => void>();
  let client: PgClient | null = null;
  let connected = false;
  let closed = false;
  let backoff = 1000;
  let starting: Promise<void> | null = null;
  const wake = () => {
    for (const listener of listeners) listener();
  };

  type PgModule = { default: { Client: new (config: { connectionString: string; keepAlive?: boolean; connectionTimeoutMillis?: number }) => PgClient } };
  // Loaded at run time only (bundlers are told to leave it): an app without PostgreSQL needs no `pg`.
  const loadPg = async () => ((await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ "pg")) as unknown as PgModule).default;

  /** NOTIFY over a connection of its own: the listening one is down, and other processes must still hear of the change. */
  async function notifyOnce(): Promise<void> {
    const pg = await loadPg();
    const once = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
    try {
      await once.connect();
      await answeredWithin(once.query(`NOTIFY ${CHANNEL}`), 2000);
    } finally {
      once.connection?.stream?.destroy();
      await once.end().catch(() => undefined);
    }
  }

  /** The listening connection's `lost` handler, while it is the current one. */
  let drop: ((err?: Error) => void) | null = null;
  /** Stops the current connection's heartbeat. */
  let stopHeartbeat: () => void = () => undefined;

  /** Close a connection without waiting on a peer that may never answer. */
  function shut(connection: PgClient, graceful: boolean): Promise<void> {
    if (!graceful) connection.connection?.stream?.destroy();
    return answeredWithin(connection.end(), answerTimeoutMs).catch(() => connection.connection?.stream?.destroy());
  }

  async function start(): Promise<void> {
    if (closed) return;
    const pg = await loadPg();
    const next = new pg.Client({ connectionString, keepAlive: true, connectionTimeoutMillis: 5000 });
    const lost = (err?: Error) => {
      if (client !== next) return;
      connected = false;
      client = null;
      drop = null;
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
      if (message.channel === CHANNEL) wake();
    });
    next.on("error", lost);
    next.on("end", lost);
    client = next;
    drop = lost;
    try {
      await next.connect();
      await answeredWithin(next.query(`LISTEN ${CHANNEL}`), answerTimeoutMs * 5);
      if (client !== next) {
        // Closed (or replaced) while connecting.
        void shut(next, true);
        return;
      }
      connected = true;
      backoff = 1000;
      // One heartbeat in flight at a time; one that stays unanswered past the timeout drops the connection.
      let inFlight = false;
      const heartbeat = setInterval(() => {
        if (inFlight || client !== next) return;
        inFlight = true;
        answeredWithin(next.query("SELECT 1"), answerTimeoutMs).then(
          () => void (inFlight = false),
          (err: unknown) => lost(new Error(`heartbeat: ${err instanceof Error ? err.message : String(err)}`)),
        );
      }, heartbeatMs);
      heartbeat.unref?.();
      stopHeartbeat = () => clearInterval(heartbeat);
      wake();
    } catch (err) {
      lost(err instanceof Error ? err : new Error(String(err)));
    }
  }

  return {
    get crossProcess() {
      return connected;
    },
    subscribe(onChange) {
      listeners.add(onChange);
      starting ??= start().catch(() => undefined);
      return () => void listeners.delete(onChange);
    },
    async publish() {
      wake();
      const current = connected ? client : null;
      // Bounded: a NOTIFY queued on a connection that died silently would never be answered, and
      // the write that publishes (a revocation) would wait for it forever.
      const sent = current
        ? await answeredWithin(current.query(`NOTIFY ${CHANNEL}`), answerTimeoutMs).then(
            () => true,
            (err: unknown) => {
              if (client === current) drop?.(new Error(`NOTIFY: ${err instanceof Error ? err.message : String(err)}`));
              return false;
            },
          )
        : false;
      if (!sent) await notifyOnce().catch((err: unknown) => options.log?.(`change feed: NOTIFY failed (${err instanceof Error ? err.message : String(err)}); other processes learn of the change by polling`));
    },
    async close() {
      closed = true;
      connected = false;
      stopHeartbeat();
      const current = client;
      // `lost` ignores a connection that is no longer current: no reconnect after this.
      client = null;
      drop = null;
      if (current) await shut(current, true);
    },
  };
}
