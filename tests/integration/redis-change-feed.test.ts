// The Redis change feed (claims-kit/redis, issue #26): the same guarantees as the PostgreSQL one.
// Runs where a Redis server answers at REDIS_URL (default redis://127.0.0.1:6379: the project's
// machines and CI have one); elsewhere each test says so in one line and is skipped. Every test uses
// a channel of its own, so nothing else on the server is touched but the connections it opens.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Redis } from "ioredis";
import { ClaimsKitError } from "../../lib/claims-kit";
import { cachedSessionRegistry, memorySessionRegistry, type ChangeLog } from "../../lib/claims-kit/plugin";
import { redisChangeFeed } from "../../lib/claims-kit/redis";
import { memoryChangeLog } from "../unit/fixtures";
import { freshDatabase } from "./harness";

const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const NO_REDIS = `no Redis at ${url}`;

async function answers(): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on("error", () => undefined);
  try {
    await c.connect();
    await c.ping();
    return true;
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}
const available = answers();
const channel = () => `claims_kit_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
admin.on("error", () => undefined);
after(() => admin.disconnect());

/** Resolves once `cond` holds (checked every 10 ms), or rejects after `ms` naming what it waited for. */
async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = performance.now();
  while (!(await cond())) {
    if (performance.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

/** Two processes on one database (a memory registry and change log): two registry caches, each with its own feed. */
function twoProcesses(ch: string, log: string[] = [], changes: ChangeLog = memoryChangeLog(), clientB?: Redis, secret?: string) {
  const registry = memorySessionRegistry();
  const feedA = redisChangeFeed({ url, channel: ch, secret });
  const feedB = redisChangeFeed({ ...(clientB ? { client: clientB } : { url }), channel: ch, secret, log: (m) => log.push(m) });
  // B reads the log on its own once a minute, whether its feed is up or down: within a test only a
  // message (or the feed's wake-up when it reconnects) makes it read.
  const a = cachedSessionRegistry(registry, { changes, feed: feedA, onError: () => undefined });
  const b = cachedSessionRegistry(registry, { changes, feed: feedB, pollMs: 60_000, safetyPollMs: 60_000, onError: () => undefined });
  return { a, b, feedA, feedB, close: () => Promise.all([a.close(), b.close()]) };
}

test("options: exactly one of url or client, a redis URL, a channel, timings; each refused with invalid_option naming it", () => {
  const refused = (options: unknown, option: string) =>
    assert.throws(() => redisChangeFeed(options as never), (err: unknown) => err instanceof ClaimsKitError && err.code === "invalid_option" && err.option === option, option);
  refused({}, "url");
  refused({ url, client: {} }, "url");
  refused({ url: "http://127.0.0.1:6379" }, "url");
  refused({ client: {} }, "client");
  refused({ url, channel: "" }, "channel");
  refused({ url, heartbeatMs: 10 }, "heartbeatMs");
  refused({ url, answerTimeoutMs: 1.5 }, "answerTimeoutMs");
});

test("a publish that cannot reach Redis is logged, never thrown (the write it follows is done)", async () => {
  const log: string[] = [];
  const feed = redisChangeFeed({ url: "redis://127.0.0.1:1", log: (m) => log.push(m), answerTimeoutMs: 200 });
  try {
    await feed.publish();
    assert.equal(feed.crossProcess, false);
    assert.match(log.join("\n"), /change feed: PUBLISH failed \(.+\); other processes learn of the change by polling/);
  } finally {
    await feed.close?.();
  }
});

test("cross-process: a revocation in one process is seen by another within the poll window, without its polling", async (t) => {
  if (!(await available)) return t.skip(NO_REDIS);
  const p = twoProcesses(channel());
  try {
    await p.a.create({ sid: "s1", userId: "u1", now: 1000 });
    assert.equal((await p.b.check("s1"))?.revoked, false); // cached in b
    await until(() => p.feedA.crossProcess && p.feedB.crossProcess, 5000, "both subscribed");
    const syncs = p.b.stats().syncs;
    await p.a.revoke({ sid: "s1" }, 1001);
    const took = await until(async () => (await p.b.check("s1"))?.revoked === true, 1000, "b sees the revocation");
    t.diagnostic(`revocation in a seen by b after ${took.toFixed(0)} ms`);
    assert.ok(p.b.stats().syncs > syncs, "b read the change log because it was woken");
  } finally {
    await p.close();
  }
});

test("with the app's secret: revocations, also concurrent ones, are applied in the other process from the messages, without reading the change log", async (t) => {
  if (!(await available)) return t.skip(NO_REDIS);
  const p = twoProcesses(channel(), [], memoryChangeLog(), undefined, "a-secret-of-at-least-32-characters-long");
  try {
    const sids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const sid of sids) await p.a.create({ sid, userId: `u-${sid}`, now: 1000 });
    for (const sid of sids) assert.equal((await p.b.check(sid))?.revoked, false); // cached in b
    await until(() => p.feedA.crossProcess && p.feedB.crossProcess, 5000, "both subscribed");
    await p.b.sync();
    const syncs = p.b.stats().syncs;
    await p.a.revoke({ sid: sids[0]! }, 1001);
    await until(async () => (await p.b.check(sids[0]!))?.revoked === true, 1000, "b sees the revocation");
    assert.equal(p.b.stats().syncs, syncs, "b applied the announced change: no read of the log");
    await Promise.all(sids.slice(1).map((sid) => p.a.revoke({ sid }, 1001)));
    await until(async () => (await p.b.check(sids.at(-1)!))?.revoked === true, 1000, "b sees the last revocation");
    for (const sid of sids) assert.equal((await p.b.check(sid))?.revoked, true, `${sid} revoked in b`);
    assert.equal(p.b.stats().syncs, syncs, "publishes coalesced under way: still no read of the log");
    assert.ok(p.b.stats().announced >= sids.length, `announced: ${p.b.stats().announced}`);
  } finally {
    await p.close();
  }
});

test("concurrent publishes: every subscriber of the other process wakes, and its read after the last publish sees the last change", async (t) => {
  if (!(await available)) return t.skip(NO_REDIS);
  const p = twoProcesses(channel());
  const woken = [0, 0, 0];
  const stops = woken.map((_, i) => p.feedB.subscribe(() => void woken[i]!++));
  try {
    const sids = Array.from({ length: 12 }, (_, i) => `s${i}`);
    for (const sid of sids) await p.a.create({ sid, userId: `u-${sid}`, now: 1000 });
    for (const sid of sids) assert.equal((await p.b.check(sid))?.revoked, false);
    await until(() => p.feedA.crossProcess && p.feedB.crossProcess, 5000, "both subscribed");
    woken.fill(0);
    await Promise.all(sids.slice(0, -1).map((sid) => p.a.revoke({ sid }, 1001)));
    await p.a.revoke({ sid: sids.at(-1)! }, 1002);
    await until(async () => (await p.b.check(sids.at(-1)!))?.revoked === true, 1000, "b sees the last revocation");
    for (const sid of sids) assert.equal((await p.b.check(sid))?.revoked, true, `${sid} revoked in b`);
    assert.ok(woken.every((n) => n > 0), `every subscriber woken: ${woken.join(", ")}`);
  } finally {
    for (const stop of stops) stop();
    await p.close();
  }
});

test("a dropped subscriber connection (the app's own client given): crossProcess goes false, and once reconnected the process reads the log (a message may have been missed)", async (t) => {
  if (!(await available)) return t.skip(NO_REDIS);
  await admin.connect().catch(() => undefined);
  // B's feed gets the app's client: it publishes over it and subscribes over a duplicate, which
  // keeps the client's connection name, so the test can find that one connection and kill it.
  const name = `claims-kit-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const client = new Redis(url, { connectionName: name });
  const log: string[] = [];
  const p = twoProcesses(channel(), log, memoryChangeLog(), client);
  try {
    await p.a.create({ sid: "s1", userId: "u1", now: 1000 });
    assert.equal((await p.b.check("s1"))?.revoked, false);
    await until(() => p.feedA.crossProcess && p.feedB.crossProcess, 5000, "both subscribed");
    const ids = await subscriberIds(name);
    assert.equal(ids.length, 1, "b's one subscribing connection");
    await admin.call("CLIENT", "KILL", "ID", ids[0]!);
    await until(() => !p.feedB.crossProcess, 3000, "b notices its connection is gone");
    await p.a.revoke({ sid: "s1" }, 1001); // published while b is not subscribed: b gets no message
    await until(() => p.feedB.crossProcess, 5000, "b subscribed again");
    await until(async () => (await p.b.check("s1"))?.revoked === true, 1000, "b, back, read the log");
    assert.match(log.join("\n"), /change feed: connection lost \(closed\); polling until it is back/);
    assert.equal(client.status, "ready", "the app's own client is left open");
  } finally {
    await p.close();
    client.disconnect();
  }
});

/** Ids of the server's pub/sub connections named `name`. */
async function subscriberIds(name: string): Promise<string[]> {
  const list = String(await admin.call("CLIENT", "LIST", "TYPE", "pubsub"));
  return list.split("\n").filter((line) => line.includes(` name=${name} `)).map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1]).filter((id): id is string => id !== undefined);
}

test("the reference app with AUTH_CHANGE_FEED=redis, two processes on one database: a revocation in one signs the cookie out in the other, which never polls", async (t) => {
  if (!(await available)) return t.skip(NO_REDIS);
  const db = await freshDatabase();
  const { createPrismaClient } = await import("../../app/_lib/db-client");
  const prisma = createPrismaClient(db.url);
  const { seed } = await import("../../prisma/seed-data");
  await seed(prisma);
  const { createAuth } = await import("../../auth.config");
  const { readEnv } = await import("../../app/_lib/env");
  const env = readEnv({ NODE_ENV: "test", DATABASE_URL: db.url, AUTH_SECRET: "redis-test-secret-0123456789abcdef", AUTH_OIDC_ISSUER: "http://127.0.0.1:1", AUTH_OIDC_ID: "app", AUTH_OIDC_SECRET: "secret", AUTH_CHANGE_FEED: "redis", REDIS_URL: url });
  const quiet = { info() {}, warn() {}, error() {} };
  const one = createAuth(env, { prisma, logger: quiet });
  // The other process reads the change log on its own once a minute: only the feed can tell it.
  const two = createAuth(env, { prisma, logger: quiet, registryCache: { pollMs: 60_000, safetyPollMs: 60_000 } });
  const listener = new Redis(url);
  try {
    one.check();
    const user = await prisma.user.findFirstOrThrow({ where: { email: "alice@example.com" } });
    const token = await one.kit.callbacks.jwt({
      token: { sub: user.id, name: user.name, email: user.email },
      user: { id: user.id, email: user.email, name: user.name },
      account: { provider: "oidc", type: "oidc", providerAccountId: `idp-${user.id}` },
      profile: { sub: `idp-${user.id}`, iss: "http://127.0.0.1:1" },
      trigger: "signIn",
    });
    assert.ok(token, "signed in");
    assert.ok(await two.kit.callbacks.jwt({ token: structuredClone(token) }), "the other process accepts the cookie");
    // Both processes run in this one test process, where the in-process feed would wake them too:
    // the message on the app's Redis channel is what shows the change went through Redis.
    const messages: string[] = [];
    listener.on("message", (from: string) => void messages.push(from));
    await listener.subscribe("claims_kit_changes");
    const { internalsOf } = await import("../../lib/claims-kit/engine/kit");
    await one.kit.sessions.revoke(internalsOf(one.kit).sessionId(token)!, { by: "user" });
    const took = await until(async () => (await two.kit.callbacks.jwt({ token: structuredClone(token) })) === null, 2000, "the other process signs the cookie out");
    t.diagnostic(`revocation in one process seen by the other after ${took.toFixed(0)} ms`);
    await until(() => messages.length > 0, 1000, "a message on the app's channel");
  } finally {
    listener.disconnect();
    await Promise.all([one.close(), two.close()]);
    await prisma.$disconnect();
    await db.drop();
  }
});
