// Security review round 4 (attack): the Prisma session registry's pending-patch writes under
// concurrency (compare-and-set on the stored text, retried), on SQLite and, with
// KIT_TEST_DB=postgres, on PostgreSQL with a pool of connections writing at once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createHash } from "node:crypto";
import { parsePatch, withValues } from "../../lib/claims-kit/engine/patches";
import { prismaReplayStore, prismaSessionRegistry } from "../../lib/claims-kit/prisma";
import { createPrismaClient } from "../../app/_lib/db";
import type { PrismaClient } from "../../prisma/generated/prisma/client";
import { freshDatabase } from "./harness";

let db: { url: string; drop: () => Promise<void> };
let prisma: PrismaClient;
before(async () => {
  db = await freshDatabase();
  prisma = createPrismaClient(db.url);
});
after(async () => {
  await prisma.$disconnect();
  await db.drop();
});

describe("review round 4: pending patch writes under concurrency", () => {
  test("review round 4: concurrent writers to one session's pending patch lose none of their changes", async () => {
    const user = await prisma.user.create({ data: { email: `race-${Date.now()}@example.com` } });
    const registry = prismaSessionRegistry(prisma);
    const sid = `race-${Date.now()}`;
    await registry.create({ sid, userId: user.id, now: 1000 });
    const writers = 40;
    const written = await Promise.all(
      Array.from({ length: writers }, (_, i) => registry.rewritePatch({ sid }, (current) => withValues(current, { [`claim${i}`]: i }, 1000).text)),
    );
    const state = await registry.check(sid);
    const names = Object.keys(parsePatch(state!.pendingPatch)!.values);
    assert.equal(names.length, writers, `${writers - names.length} change(s) lost; rewritePatch said ${written.filter((n) => n === 0).length} wrote nothing`);
  });
});

describe("review round 4: the replay store's keys", () => {
  // Finding: prismaReplayStore cut every key to its first 512 characters. A back-channel logout
  // token's key is `bcl:<issuer>:<jti>`: with a long issuer or jti, two different logout tokens
  // shared a key, and the second was refused as "replayed", so its sessions were not ended.
  test("review round 4: two logout tokens whose replay keys share their first 512 characters are both accepted once", async () => {
    const store = prismaReplayStore(prisma);
    const prefix = `bcl:https://idp.example/${"t".repeat(500)}:`;
    const [a, b] = [`${prefix}jti-1`, `${prefix}jti-2`];
    assert.equal(await store.once(a, 2000, 1000), true);
    assert.equal(await store.once(b, 2000, 1000), true, "a different token was taken for a replay of the first");
    assert.equal(await store.once(a, 2000, 1000), false, "the replay of the first is still caught");
    await store.forget(b);
    assert.equal(await store.once(b, 2000, 1000), true, "forget() forgets the same key once() remembered");
  });
});

describe("review round 4: provider ids that look like stored hashes (held)", () => {
  test("review round 4: a provider subject that is literally the stored form of another user's long subject ends only its own sessions", async () => {
    const registry = prismaSessionRegistry(prisma);
    const issuer = "https://idp.example";
    const victimSub = `victim-${"v".repeat(300)}`;
    const forged = `sha256:${createHash("sha256").update(victimSub, "utf8").digest("base64url")}`;
    const [victim, attacker] = await Promise.all(["victim", "attacker"].map((n) => prisma.user.create({ data: { email: `${n}-${Date.now()}@example.com` } })));
    const sid = (n: string) => `${n}-${Date.now()}`;
    const [v, a] = [sid("v"), sid("a")];
    await registry.create({ sid: v, userId: victim!.id, now: 1000, provider: { issuer, subject: victimSub, sid: null } });
    await registry.create({ sid: a, userId: attacker!.id, now: 1000, provider: { issuer, subject: forged, sid: forged } });
    assert.equal(await registry.revoke({ issuer, subject: forged }, 1001, "provider"), 1);
    assert.equal((await registry.check(v))?.revoked, false, "the attacker's logout ended the victim's session");
    assert.equal((await registry.check(a))?.revoked, true);
    assert.equal(await registry.revoke({ issuer, providerSid: forged }, 1001, "provider"), 0);
    assert.equal(await registry.revoke({ issuer, subject: victimSub }, 1002, "provider"), 1);
    assert.equal((await registry.check(v))?.revoked, true);
  });
});
