// PostgreSQL LISTEN/NOTIFY for the registry cache: its own module (exported from the prisma entry
// only), so an app without PostgreSQL never has its bundler look for the `pg` package.
import type { ChangeFeed } from "../core/ports";

/** The slice of node-postgres' `Client` the feed uses. */
interface PgClient {
  connect(): Promise<unknown>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: "notification", listener: (message: { channel: string }) => void): unknown;
  on(event: "error" | "end", listener: (err?: Error) => void): unknown;
}

const CHANNEL = "claims_kit_changes";

/**
 * PostgreSQL LISTEN/NOTIFY on channel `claims_kit_changes`, over one dedicated connection (the
 * `pg` package, loaded on first use). While it is down, `crossProcess` is false (the registry cache
 * then polls the change log every second) and it reconnects with a back-off up to 30 s.
 *
 * @example
 * ```ts
 * const feed = postgresChangeFeed(process.env.DATABASE_URL!);
 * ```
 */
export function postgresChangeFeed(connectionString: string, options: { log?: (message: string) => void } = {}): ChangeFeed {
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
      await once.query(`NOTIFY ${CHANNEL}`);
    } finally {
      await once.end().catch(() => undefined);
    }
  }

  async function start(): Promise<void> {
    if (closed) return;
    const pg = await loadPg();
    // keepAlive: a connection that died silently (a NAT, a failover) is noticed, and polling takes over.
    const next = new pg.Client({ connectionString, keepAlive: true });
    const lost = (err?: Error) => {
      if (client !== next) return;
      connected = false;
      client = null;
      options.log?.(`change feed: connection lost${err ? ` (${err.message})` : ""}; polling until it is back`);
      next.end().catch(() => undefined);
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
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      connected = true;
      backoff = 1000;
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
      const sent = connected && client ? await client.query(`NOTIFY ${CHANNEL}`).then(() => true, () => false) : false;
      if (!sent) await notifyOnce().catch((err: unknown) => options.log?.(`change feed: NOTIFY failed (${err instanceof Error ? err.message : String(err)}); other processes learn of the change by polling`));
    },
    async close() {
      closed = true;
      connected = false;
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
