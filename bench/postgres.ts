// The reference app on PostgreSQL, two `next start` processes (A and B) sharing one fresh database:
//   - queries per 1,000 `GET /api/auth/session` on A, counted at the wire by a TCP relay between A
//     and PostgreSQL (every Query and Execute message A sends, background polls included);
//   - revocation latency: sign a user in on A, read the session on B, sign it out on A (Auth.js's
//     POST /api/auth/signout), poll B until it refuses the cookie; p50 and p99 over the rounds.
// The baseline has no database (0 queries by construction) and no revocation (a JWT is valid until
// it expires). Skipped, with the reason, when no PostgreSQL answers at TEST_POSTGRES_URL.
import { createServer, connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { startOidcProvider } from "../scripts/oidc/provider";
import { ENDPOINTS, LOGIN, SessionCookie, load, type HttpSettings } from "./http";
import { fmt, ROOT, type Table } from "./report";
import { BENCH_SECRET, freePort, signIn, startNext, type App } from "./servers";

export const ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** A TCP relay to PostgreSQL that counts the statements its clients send (Query and Execute messages). */
export interface CountingRelay {
  /** `target` with host and port replaced by the relay's. */
  url: string;
  statements(): number;
  /** True once a client negotiated TLS or GSS encryption: the count is then unknown. */
  encrypted(): boolean;
  close(): Promise<void>;
}

export async function countingRelay(target: string): Promise<CountingRelay> {
  const upstreamUrl = new URL(target);
  let statements = 0;
  let encrypted = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(upstreamUrl.port || 5432), upstreamUrl.hostname);
    // Forwarded at once both ways: with Nagle's algorithm a statement waited about 15 ms here for
    // the previous segment's ACK (a purge took 387-450 ms through the relay, 157-197 ms direct).
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
    let startup = true; // messages without a type byte until the startup message
    let awaitingEncryptionReply = false;
    let pending = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (startup) {
          if (pending.length < 8) break;
          const length = pending.readInt32BE(0);
          if (pending.length < length) break;
          const code = pending.readInt32BE(4);
          if (code === SSL_REQUEST || code === GSSENC_REQUEST) awaitingEncryptionReply = true;
          else startup = false;
          pending = pending.subarray(length);
        } else {
          if (pending.length < 5) break;
          const length = 1 + pending.readInt32BE(1);
          if (pending.length < length) break;
          const type = String.fromCharCode(pending[0]!);
          if (type === "Q" || type === "E") statements += 1;
          pending = pending.subarray(length);
        }
      }
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!awaitingEncryptionReply) return;
      awaitingEncryptionReply = false;
      if (chunk[0] === 0x53 /* S */ || chunk[0] === 0x47 /* G */) encrypted = true;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    statements: () => statements,
    encrypted: () => encrypted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database `bench_<pid>[_<suffix>]`, migrated and seeded, and how to drop it. */
export async function freshPostgres(suffix?: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_${process.pid}${suffix ? `_${suffix}` : ""}`;
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${name}"`);
  const drop = () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  try {
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    const { migratePostgres } = await import("../scripts/db-migrate");
    await migratePostgres(url.toString(), () => {});
    const { createPrismaClient } = await import("../app/_lib/db-client");
    const { seed } = await import("../prisma/seed-data");
    const prisma = createPrismaClient(url.toString());
    await seed(prisma);
    await prisma.$disconnect();
    return { url: url.toString(), drop };
  } catch (err) {
    await drop();
    throw err;
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export interface PostgresResult {
  table: Table;
  /** Undefined when the section was skipped (no PostgreSQL). */
  queriesPer1000?: number;
  revocationMs?: { p50: number; p99: number; rounds: number[] };
}

const TITLE = "PostgreSQL: queries per session read, and revocation across two `next start` processes";
const COLUMNS = ["measure", "baseline", "reference"];
const QUERIES_LABEL = (n: number) => `queries per 1,000 GET /api/auth/session (${n} signed-in reads)`;
const REVOCATION_LABEL = (n: number) => `revocation latency, revoke on A → B refuses the cookie, p50 / p99 (${n} rounds)`;

async function measure(settings: HttpSettings, revocationRounds: number, dbUrl: string): Promise<PostgresResult> {
  const ports = [await freePort(), await freePort()];
  const client = { clientId: "bench-pg", clientSecret: "bench-pg-secret" };
  const provider = await startOidcProvider({
    port: 0,
    clients: [{ ...client, redirectUris: ports.map((p) => `http://localhost:${p}/api/auth/callback/oidc`) }],
    logger: () => {},
  });
  const relay = await countingRelay(dbUrl);
  const apps: App[] = [];
  try {
    const env = (databaseUrl: string): NodeJS.ProcessEnv => ({
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      DATABASE_URL: databaseUrl,
      AUTH_SECRET: BENCH_SECRET,
      AUTH_TRUST_HOST: "true",
      AUTH_OIDC_ISSUER: provider.issuer,
      AUTH_OIDC_ID: client.clientId,
      AUTH_OIDC_SECRET: client.clientSecret,
    });
    // A talks to PostgreSQL through the counting relay, B directly.
    const a = await startNext("reference", ROOT, ports[0]!, env(relay.url), apps);
    const b = await startNext("reference", ROOT, ports[1]!, env(dbUrl), apps);

    // Queries per 1,000 session reads on A, after a warm-up (the first read of a session loads it).
    const endpoint = ENDPOINTS.find((e) => e.path === "/api/auth/session")!;
    const cookie = new SessionCookie(await signIn(a, LOGIN));
    await load(a, endpoint, cookie, settings.warmup, settings.concurrency);
    const before = relay.statements();
    const { failures } = await load(a, endpoint, cookie, settings.requests, settings.concurrency);
    const statements = relay.statements() - before;
    if (failures > 0) throw new Error(`PostgreSQL, A: ${failures} of ${settings.requests} session reads were not a signed-in 200`);
    if (relay.encrypted()) throw new Error("the app negotiated TLS with PostgreSQL: the relay cannot count its statements");
    const queriesPer1000 = (statements / settings.requests) * 1000;
    // The relay's total (start-up and sign-in included) shows it sees A's traffic at all.
    console.error(`bench: PostgreSQL: ${statements} statements over ${settings.requests} session reads on A (${relay.statements()} since A started)`);

    // Revocation: sign in on A, B accepts, sign out on A, poll B (every 5 ms) until it refuses.
    const latencies: number[] = [];
    for (let round = 0; round < revocationRounds; round++) {
      const email = `bench-revoke-${round}@example.com`;
      const header = await signIn(a, email);
      const onB = async () => (await (await fetch(`${b.url}/api/auth/session`, { headers: { cookie: header } })).json()) as { user?: { email?: string } } | null;
      if ((await onB())?.user?.email !== email) throw new Error(`revocation round ${round}: B did not accept the session signed in on A`);
      const csrf = await fetch(`${a.url}/api/auth/csrf`, { headers: { cookie: header } });
      const { csrfToken } = (await csrf.json()) as { csrfToken: string };
      // Auth.js checks the token against its csrf cookie: send the one /csrf set (or kept).
      const csrfCookie = (csrf.headers.getSetCookie().map((line) => line.split(";")[0]!).find((pair) => pair.includes("csrf-token=")) ?? "");
      const started = performance.now();
      const out = await fetch(`${a.url}/api/auth/signout`, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: [header, csrfCookie].filter(Boolean).join("; "), "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken }),
      });
      if (out.status !== 302) throw new Error(`revocation round ${round}: sign-out on A answered HTTP ${out.status}`);
      while ((await onB()) !== null) {
        if (performance.now() - started > 15_000) throw new Error(`revocation round ${round}: B still accepts the cookie 15 s after the sign-out on A`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      latencies.push(performance.now() - started);
    }
    const sorted = [...latencies].sort((x, y) => x - y);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    console.error(`bench: revocation A → B (ms): ${latencies.map((ms) => ms.toFixed(0)).join(", ")}`);
    return {
      table: {
        title: TITLE,
        columns: COLUMNS,
        numeric: [],
        rows: [
          [QUERIES_LABEL(settings.requests), "0 (no database)", fmt(queriesPer1000, 1)],
          [REVOCATION_LABEL(revocationRounds), "none (a JWT is valid until it expires)", `${fmt(p50)} / ${fmt(p99)} ms`],
        ],
        notes: [
          "Queries: every Query and Execute message A's `next start` process sent to PostgreSQL during the batch, counted by a TCP relay in front of the database (background change-log polls included); the baseline has no database, 0 by construction.",
          `Revocation: A and B are the reference app on one fresh PostgreSQL database; timed from the POST /api/auth/signout on A to B's first null session (B polled every 5 ms; nearest-rank percentiles, so p99 of ${revocationRounds} rounds is the slowest).`,
        ],
      },
      queriesPer1000,
      revocationMs: { p50, p99, rounds: latencies.map((ms) => Number(ms.toFixed(1))) },
    };
  } finally {
    for (const app of apps) app.process.kill("SIGTERM");
    await Promise.all(apps.map((app) => (app.process.exitCode !== null ? null : new Promise((r) => app.process.once("exit", r)))));
    await relay.close();
    await provider.close();
  }
}

/** The PostgreSQL table, or the same table with the reason it was skipped. */
export async function postgresTable(settings: HttpSettings, revocationRounds: number): Promise<PostgresResult> {
  try {
    await admin("SELECT 1");
  } catch (err) {
    const reason = `skipped: no PostgreSQL answers at ${new URL(ADMIN_URL).host} (${err instanceof Error ? err.message : String(err)}); set TEST_POSTGRES_URL`;
    console.error(`bench: PostgreSQL rows ${reason}`);
    return {
      table: {
        title: TITLE,
        columns: COLUMNS,
        rows: [
          [QUERIES_LABEL(settings.requests), "0 (no database)", "skipped"],
          [REVOCATION_LABEL(revocationRounds), "none (a JWT is valid until it expires)", "skipped"],
        ],
        notes: [`PostgreSQL rows ${reason}.`],
      },
    };
  }
  const db = await freshPostgres();
  try {
    return await measure(settings, revocationRounds, db.url);
  } finally {
    await db.drop();
  }
}
