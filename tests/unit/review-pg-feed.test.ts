// Security review (attack): postgresChangeFeed publishes over its own LISTEN connection only. When
// that connection is down in the process that revokes, no NOTIFY is sent, and every other process
// (whose feed is up, so it polls only every safetyPollMs = 30 s) keeps serving the revoked session.
// Uses the local PostgreSQL (TEST_POSTGRES_URL, database "postgres", channel claims_kit_changes) and
// terminates only its own backend (found by a random application_name); skipped without a server.
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { cachedSessionRegistry, type ChangeLog, type RegistryChange, type SessionRegistry, type SessionState } from "@/lib/claims-kit";
import { postgresChangeFeed } from "@/lib/claims-kit/prisma";

const url = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function reachable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

function withApp(name: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", name);
  return u.toString();
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(20);
}

test("attack: a revocation made while the revoking process's LISTEN connection is down still reaches processes whose feed is up", async (t) => {
  if (!(await reachable())) return t.skip("no PostgreSQL");
  const state = new Map<string, SessionState>();
  const registry: SessionRegistry = {
    async create({ sid, userId, now }) {
      state.set(sid, { revoked: false, claimsVersion: 0, epoch: "e1", lastSeenAt: now, pendingPatch: null, userId });
      return { claimsVersion: 0, epoch: "e1" };
    },
    check: async (sid) => (state.get(sid) ? { ...state.get(sid)! } : null),
    async touch() {},
    list: async () => [],
    async revoke(where) {
      const s = "sid" in where ? state.get(where.sid) : undefined;
      if (!s) return 0;
      s.revoked = true;
      return 1;
    },
    bumpClaimsVersion: async () => undefined,
    rewritePatch: async () => 0,
    bumpEpoch: async () => "e2",
  };
  const log: RegistryChange[] = [];
  const changes: ChangeLog = {
    async append(kind, key) {
      log.push({ seq: log.length + 1, kind, key });
    },
    since: async (seq, limit) => log.filter((c) => c.seq > seq).slice(0, limit),
    latest: async () => log.length,
  };
  const tag = `attack-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const feedA = postgresChangeFeed(withApp(`${tag}-a`));
  const feedB = postgresChangeFeed(withApp(`${tag}-b`));
  const a = cachedSessionRegistry(registry, { changes, feed: feedA, onError: () => undefined });
  const b = cachedSessionRegistry(registry, { changes, feed: feedB, onError: () => undefined });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await a.create({ sid: "s1", userId: "u1", now: 1000 });
    await b.check("s1");
    await until(() => feedA.crossProcess && feedB.crossProcess, 5000);
    assert.ok(feedA.crossProcess && feedB.crossProcess, "both LISTEN connections are up");
    await b.check("s1"); // cached in b

    // A's LISTEN connection drops (network blip, idle-session timeout, failover); its other DB work goes on.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [`${tag}-a`]);
    await until(() => !feedA.crossProcess, 3000);
    assert.equal(feedA.crossProcess, false);

    await a.revoke({ sid: "s1" }, 1001); // appended to the log; publish() sends no NOTIFY
    await sleep(2500);
    assert.equal((await b.check("s1"))?.revoked, true, "process b (feed up, polling every 30 s) still accepts the revoked session");
  } finally {
    await Promise.all([a.close(), b.close()]);
    await admin.end();
  }
});
