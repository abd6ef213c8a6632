// Issue #26: two sign-outs at once in one process sent two NOTIFYs on the one LISTEN connection,
// and pg 8 warned "Calling client.query() when the client is already executing a query". Publishes
// now go over a connection of their own, one at a time (those made meanwhile share the next one).
// Its own file: node's util.deprecate warns once per process, so no other test may have used the
// client before. Uses the local PostgreSQL (TEST_POSTGRES_URL); skipped, saying so, without one.
import assert from "node:assert/strict";
import { test } from "node:test";
import pg from "pg";
import { cachedSessionRegistry, memorySessionRegistry } from "@/lib/claims-kit/plugin";
import { postgresChangeFeed } from "@/lib/claims-kit/prisma";
import { memoryChangeLog } from "../fixtures";

const url = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

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

/** Resolves once `cond` holds, checked after each event of `on` (or rejects after `ms`). */
function when(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = Date.now() + ms;
    const look = async () => {
      if (await cond()) return resolve();
      if (Date.now() > end) return reject(new Error(`not within ${ms} ms: ${what}`));
      setTimeout(() => void look(), 10);
    };
    void look();
  });
}

test("concurrent publishes in one process: no pg warning, every subscriber of another process wakes, and its sync after the last publish sees the last change", async (t) => {
  if (!(await reachable())) return t.skip(`no PostgreSQL at ${url}`);
  const warnings: string[] = [];
  const onWarning = (w: Error) => void warnings.push(w.message);
  process.on("warning", onWarning);
  const registry = memorySessionRegistry();
  const changes = memoryChangeLog();
  const feedA = postgresChangeFeed(url);
  const feedB = postgresChangeFeed(url);
  // B reads the log on its own only once a minute: only a NOTIFY can tell it within the test.
  const a = cachedSessionRegistry(registry, { changes, feed: feedA, onError: () => undefined });
  const b = cachedSessionRegistry(registry, { changes, feed: feedB, safetyPollMs: 60_000, onError: () => undefined });
  const woken = [0, 0, 0];
  const stops = woken.map((_, i) => feedB.subscribe(() => void woken[i]!++));
  try {
    const sids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const sid of sids) await a.create({ sid, userId: `u-${sid}`, now: 1000 });
    for (const sid of sids) assert.equal((await b.check(sid))?.revoked, false);
    await when(() => feedA.crossProcess && feedB.crossProcess, 5000, "both LISTEN connections up");
    woken.fill(0);
    // Eleven sign-outs at once, then one more after them: the last change.
    await Promise.all(sids.slice(0, -1).map((sid) => a.revoke({ sid }, 1001)));
    await a.revoke({ sid: sids.at(-1)! }, 1002);
    await when(async () => (await b.check(sids.at(-1)!))?.revoked === true, 3000, "process b sees the last revocation");
    for (const sid of sids) assert.equal((await b.check(sid))?.revoked, true, `${sid} revoked in b`);
    assert.ok(woken.every((n) => n > 0), `every subscriber of b woken: ${woken.join(", ")}`);
    assert.deepEqual(warnings.filter((m) => /already executing a query/.test(m)), []);
  } finally {
    process.off("warning", onWarning);
    for (const stop of stops) stop();
    await Promise.all([a.close(), b.close()]);
  }
});

test("with the app's secret, each NOTIFY's payload announces its changes, and the other process applies them", async (t) => {
  if (!(await reachable())) return t.skip(`no PostgreSQL at ${url}`);
  const secret = "a-secret-of-at-least-32-characters-long";
  const registry = memorySessionRegistry();
  const changes = memoryChangeLog();
  const feedA = postgresChangeFeed(url, { secret });
  const feedB = postgresChangeFeed(url, { secret });
  const a = cachedSessionRegistry(registry, { changes, feed: feedA, onError: () => undefined });
  const b = cachedSessionRegistry(registry, { changes, feed: feedB, safetyPollMs: 60_000, onError: () => undefined });
  try {
    const sids = Array.from({ length: 6 }, (_, i) => `s${i}`);
    for (const sid of sids) await a.create({ sid, userId: `u-${sid}`, now: 1000 });
    for (const sid of sids) assert.equal((await b.check(sid))?.revoked, false);
    await when(() => feedA.crossProcess && feedB.crossProcess, 5000, "both LISTEN connections up");
    const announced = b.stats().announced;
    await Promise.all(sids.map((sid) => a.revoke({ sid }, 1001)));
    await when(async () => (await Promise.all(sids.map((sid) => b.check(sid)))).every((s) => s?.revoked === true), 3000, "process b sees every revocation");
    // Other test files may NOTIFY on the same database's channel meanwhile (bare wake-ups): what
    // this proves is that b received these changes in the payloads.
    assert.ok(b.stats().announced - announced >= sids.length, `announced to b: ${b.stats().announced - announced}`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test("channel: refused unless a plain lower-case identifier; feeds on different channels of one database do not hear each other", async (t) => {
  for (const channel of ["", "Claims", "1abc", "a-b", "x;drop", "a".repeat(64)]) {
    assert.throws(() => postgresChangeFeed(url, { channel }), (err: Error & { code?: string }) => err.code === "invalid_option" && /channel/.test(err.message), channel);
  }
  if (!(await reachable())) return t.skip(`no PostgreSQL at ${url}`);
  const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const [mine, theirs, sameAsMine] = [postgresChangeFeed(url, { channel: `app_a_${suffix}` }), postgresChangeFeed(url, { channel: `app_b_${suffix}` }), postgresChangeFeed(url, { channel: `app_a_${suffix}` })];
  const heard = { theirs: 0, same: 0 };
  const stops = [mine.subscribe(() => undefined), theirs.subscribe(() => void heard.theirs++), sameAsMine.subscribe(() => void heard.same++)];
  try {
    await when(() => mine.crossProcess && theirs.crossProcess && sameAsMine.crossProcess, 5000, "three LISTEN connections up");
    heard.theirs = 0;
    heard.same = 0;
    await mine.publish();
    await when(() => heard.same > 0, 3000, "the feed on the same channel hears it");
    await mine.publish(); // a second round trip: the other channel had time to hear the first
    await when(() => heard.same > 1, 3000, "the second too");
    assert.equal(heard.theirs, 0, "another channel hears nothing");
  } finally {
    for (const stop of stops) stop();
    await Promise.all([mine.close?.(), theirs.close?.(), sameAsMine.close?.()]);
  }
});
