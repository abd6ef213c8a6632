// Change feeds that announce their changes (issue #26): a signed message names the changes it
// follows, and every other process applies them to its view of the log without reading the log.
// The processes here share one registry and one log, and a bus that delivers messages when told.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, test } from "node:test";
import { cachedSessionRegistry, type RegistryChange } from "@/lib/claims-kit/plugin";
import { feedShell } from "@/lib/claims-kit/stores/feed-core";
import { feedMessages } from "@/lib/claims-kit/stores/feed-message";
import { feedBus, hintFrom, memoryChangeLog, sharedRegistry } from "../fixtures";

const SECRET = "a-secret-of-at-least-32-characters-long";
const NOW = 1_765_000_000_000;

describe("feed messages", () => {
  const messages = feedMessages(SECRET);
  const changes: RegistryChange[] = [
    { seq: 7, kind: "session", key: "s1" },
    { seq: 8, kind: "user", key: "u1" },
    { seq: 9, kind: "all", key: "" },
  ];

  test("a message announces its changes to a process with the same secret", () => {
    assert.deepEqual(messages.decode(messages.encode(changes, NOW)!, NOW + 1000), changes);
  });

  test("forged, tampered, stale, oversized or malformed messages announce nothing (a bare wake-up)", () => {
    const message = messages.encode(changes, NOW)!;
    const [version, body, tag] = message.split(".");
    assert.equal(feedMessages(`${SECRET}-other`).decode(message, NOW), undefined, "another secret");
    const forgedBody = Buffer.from(JSON.stringify({ t: NOW, c: [[7, "s", "s2"]] })).toString("base64url");
    assert.equal(messages.decode(`${version}.${forgedBody}.${tag}`, NOW), undefined, "a body the tag was not made for");
    assert.equal(messages.decode(`${version}.${body}.${tag!.slice(1)}`, NOW), undefined, "a cut tag");
    assert.equal(messages.decode(message, NOW + 61_000), undefined, "a replay after a minute");
    assert.equal(messages.decode(message, NOW - 61_000), undefined, "from a clock a minute ahead");
    assert.equal(messages.decode(`${message}.x`, NOW), undefined);
    assert.equal(messages.decode("1", NOW), undefined);
    assert.equal(messages.decode(undefined, NOW), undefined);
    assert.equal(messages.encode(Array.from({ length: 300 }, (_, i) => ({ seq: i + 1, kind: "session" as const, key: `session-${i}-${"x".repeat(20)}` })), NOW), null, "over a NOTIFY payload");
    // Signed with the right key, but not a list of changes this feed sends.
    for (const payload of [{ t: NOW, c: [] }, { t: NOW, c: [[0, "s", "k"]] }, { t: NOW, c: [[1.5, "s", "k"]] }, { t: NOW, c: [[1, "x", "k"]] }, { t: NOW, c: [[1, "s", 5]] }, { t: "now", c: [[1, "s", "k"]] }, { t: NOW, c: [[1, "s", "k".repeat(600)]] }]) {
      const b = Buffer.from(JSON.stringify(payload)).toString("base64url");
      assert.equal(messages.decode(`v1.${b}.${tagOf(b)}`, NOW), undefined, JSON.stringify(payload).slice(0, 60));
    }
  });
});

/** The tag feedMessages gives `body` (its key derivation, restated: a test of the format). */
function tagOf(body: string): string {
  const key = createHmac("sha256", SECRET).update("claims-kit change feed v1").digest();
  return createHmac("sha256", key).update(body).digest().toString("base64url");
}

/** Two processes over one registry and one log counting its reads; `b` reads the log once first. */
async function processes(options: { secretOfA?: string } = {}) {
  const { registry } = sharedRegistry(async () => undefined);
  const log = memoryChangeLog();
  let reads = 0;
  const changes = { ...log, since: (seq: number, limit: number) => (reads++, log.since(seq, limit)) };
  const wire = feedBus(SECRET);
  const errors: string[] = [];
  const options_ = { changes, onError: (m: string) => void errors.push(m) };
  const a = cachedSessionRegistry(registry, { ...options_, feed: wire.feed(options.secretOfA) });
  const b = cachedSessionRegistry(registry, { ...options_, feed: wire.feed() });
  await a.create({ sid: "s1", userId: "u1", now: 1000 });
  await a.create({ sid: "s2", userId: "u2", now: 1000 });
  await a.create({ sid: "s3", userId: "u3", now: 1000 });
  await b.sync();
  wire.deliver();
  await b.sync();
  const hintOf = async (sid: string) => hintFrom((await a.check(sid))!);
  return { registry, log, wire, a, b, errors, hintOf, reads: () => reads, close: () => Promise.all([a.close(), b.close()]) };
}

describe("a registry cache fed announced changes", () => {
  test("a revocation in one process is applied in the other without a read of the log, on the cached and the cold path", async () => {
    const p = await processes();
    const hint = await p.hintOf("s1");
    await p.b.check("s1"); // cached in b
    const cold = await p.hintOf("s2");
    const reads = p.reads();
    await p.a.revoke({ sid: "s1" }, 1001);
    await p.a.revoke({ sid: "s2" }, 1001);
    p.wire.deliver();
    assert.equal(p.reads(), reads, "no read of the log");
    assert.equal(p.b.stats().announced >= 2, true);
    assert.equal((await p.b.check("s1", hint))?.revoked, true, "cached: forgotten, read again");
    assert.equal((await p.b.check("s2", cold))?.revoked, true, "cold: the hint is older than the announced change");
    await p.close();
  });

  test("a message that does not verify (another secret) is a bare wake-up: the other process reads the log", async () => {
    const p = await processes({ secretOfA: `${SECRET}-rotated` });
    const hint = await p.hintOf("s1");
    const reads = p.reads();
    await p.a.revoke({ sid: "s1" }, 1001);
    p.wire.deliver();
    await p.b.sync(); // waits on the read the wake-up began
    assert.equal(p.reads() > reads, true, "b read the log");
    assert.equal((await p.b.check("s1", hint))?.revoked, true);
    await p.close();
  });

  test("messages that cross: the later change waits for the earlier one, and no hint is answered meanwhile", async () => {
    const p = await processes();
    const hint = await p.hintOf("s1");
    const other = await p.hintOf("s2");
    const untouched = await p.hintOf("s3");
    await p.a.revoke({ sid: "s1" }, 1001); // seq n+1
    await p.a.bumpClaimsVersion("u9"); // seq n+2: names neither session
    const reads = p.reads();
    const [first, second] = p.wire.sent.splice(0);
    p.wire.inject(second!);
    p.wire.deliver();
    assert.equal((await p.b.check("s2", other))?.fromHint, undefined, "a number is missing: it may name s2");
    const afterRefusal = p.reads();
    p.wire.inject(first!);
    p.wire.deliver();
    assert.equal(p.reads(), afterRefusal, "the gap closed by a message, not a read");
    assert.equal(afterRefusal, reads, "nothing read the log");
    assert.equal((await p.b.check("s1", hint))?.revoked, true);
    assert.equal((await p.b.check("s3", untouched))?.fromHint, true, "complete again: a hint holds");
    await p.close();
  });

  test("messages that cross and the earlier never comes: the log is read after a short wait", async () => {
    const p = await processes();
    const hint = await p.hintOf("s1");
    await p.a.revoke({ sid: "s1" }, 1001);
    await p.a.bumpClaimsVersion("u9");
    const [, second] = p.wire.sent.splice(0);
    const reads = p.reads();
    p.wire.inject(second!);
    p.wire.deliver();
    await new Promise((resolve) => setTimeout(resolve, 80)); // REORDER_MS is 50
    await p.b.sync();
    assert.equal(p.reads() > reads, true, "read the log");
    assert.equal((await p.b.check("s1", hint))?.revoked, true);
    await p.close();
  });

  test("an announced change the log contradicts (a leaked secret, a log that went back): the next read starts again from the log's end, trusting no hint", async () => {
    const p = await processes();
    const hint = await p.hintOf("s1");
    const position = hint.logPosition;
    // The real next change revokes s1; a message signed with the secret claims that number named s2.
    await p.registry.revoke({ sid: "s1" }, 1001);
    await p.log.append("session", "s1", 1001);
    p.wire.inject(feedMessages(SECRET).encode([{ seq: position + 1, kind: "session", key: "s2" }], Date.now())!);
    p.wire.deliver();
    await p.b.sync();
    assert.match(p.errors.join("\n"), /contradicts a change the feed announced/);
    assert.equal((await p.b.check("s1", hint))?.revoked, true, "the real change holds");
    await p.close();
  });

  test("an announced change that never reached the log (a forged number ahead): the next read notices and trusts no hint from before", async () => {
    const p = await processes();
    const hint = await p.hintOf("s1");
    const untouched = await p.hintOf("s3");
    await p.registry.revoke({ sid: "s1" }, 1001); // written, its log row not yet appended
    p.wire.inject(feedMessages(SECRET).encode([{ seq: hint.logPosition + 1, kind: "user", key: "u9" }], Date.now())!);
    p.wire.deliver();
    await p.b.sync();
    assert.equal((await p.b.check("s1", hint))?.revoked, true, "the hint is older than what the view vouches for");
    assert.equal((await p.b.check("s3", untouched))?.fromHint, undefined, "nor any other");
    await p.close();
  });

  test("an announced number the log skipped (a forged message filling a gap): the read that follows notices, though the log holds what came after", async () => {
    const p = await processes();
    const hint = await p.hintOf("s1");
    const untouched = await p.hintOf("s3");
    p.log.skip(1); // number n+1 is never written (a rolled-back insert)
    p.wire.inject(feedMessages(SECRET).encode([{ seq: hint.logPosition + 1, kind: "user", key: "u9" }], Date.now())!);
    p.wire.deliver();
    await p.a.revoke({ sid: "s2" }, 1001); // n+2, announced
    p.wire.deliver();
    await p.b.sync();
    assert.match(p.errors.join("\n"), /contradicts/);
    assert.equal((await p.b.check("s3", untouched))?.fromHint, undefined, "no hint from before is trusted");
    await p.close();
  });

  test("a message with a change too far ahead to hold still applies every change it carries, and the log is read at once", async () => {
    const p = await processes();
    await p.b.check("s2"); // cached in b
    const position = (await p.hintOf("s1")).logPosition;
    await p.registry.revoke({ sid: "s2" }, 1001); // written; its announcement below
    const far = { seq: position + 50_000, kind: "user" as const, key: "u9" };
    p.wire.inject(feedMessages(SECRET).encode([far, { seq: position + 1, kind: "session", key: "s2" }], Date.now())!);
    const reads = p.reads();
    p.wire.deliver();
    assert.equal((await p.b.check("s2"))?.revoked, true, "forgotten at once, though an earlier change in the message was too far ahead");
    await p.b.sync();
    assert.ok(p.reads() > reads, "the log was read");
    await p.close();
  });

  test("publishes made while a send is under way are announced together in the next message; one without changes makes it a bare wake-up", async () => {
    const sent: string[] = [];
    let release: () => void = () => undefined;
    const shell = feedShell({
      sendName: "PUBLISH",
      messages: feedMessages(SECRET),
      send: (m) => {
        sent.push(m);
        return new Promise<void>((resolve) => (release = resolve));
      },
      onSubscribe: () => undefined,
      close: async () => undefined,
    });
    const first = shell.feed.publish([{ seq: 1, kind: "session", key: "a" }]);
    const second = shell.feed.publish([{ seq: 2, kind: "session", key: "b" }]);
    const third = shell.feed.publish([{ seq: 3, kind: "user", key: "c" }]);
    release();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([second, third]);
    const decode = (m: string) => feedMessages(SECRET).decode(m, Date.now())?.map((c) => c.seq);
    assert.deepEqual(sent.map(decode), [[1], [2, 3]]);
    const fourth = shell.feed.publish([{ seq: 4, kind: "session", key: "d" }]);
    const fifth = shell.feed.publish();
    release();
    await fourth;
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await fifth;
    assert.deepEqual(sent.slice(2), [sent[2], "1"]);
    assert.deepEqual(decode(sent[2]!), [4]);
  });
});
