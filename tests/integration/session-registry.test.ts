// The Prisma stores on a real database (SQLite; PostgreSQL with KIT_TEST_DB=postgres, a pool of
// connections writing at once): the SessionRegistry conformance suite (tests/conformance) against
// prismaSessionRegistry and cachedSessionRegistry over it, and the replay store's keys.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { cachedSessionRegistry, memoryReplayStore } from "../../lib/claims-kit/plugin";
import { prismaChangeLog, prismaReplayStore, prismaSessionRegistry } from "../../lib/claims-kit/prisma";
import { createPrismaClient } from "../../app/_lib/db";
import type { PrismaClient } from "../../prisma/generated/prisma/client";
import { sessionRegistryConformance, type RegistryUnderTest } from "../conformance/session-registry";
import { freshDatabase, TEST_DB } from "./harness";

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

  test("a sighting that expired before it was made (a look) blocks no later once(), in the Prisma and memory stores (the Shared Signals receiver relies on it, #27)", async () => {
    for (const store of [prismaReplayStore(prisma), memoryReplayStore()]) {
      assert.equal(await store.once("look-1", 1000 - 301, 1000), true, "absent: a look says so");
      assert.equal(await store.once("look-1", 1000 - 301, 1000), true, "a look marks nothing");
      // Another instance whose clock is 300 s behind does not see it either.
      assert.equal(await store.once("look-1", 2000, 700), true, "a clock 300 s behind still sweeps the look");
      assert.equal(await store.once("look-1", 700 - 301, 700), false, "a marked key is seen by a look");
    }
  });
});

/** The Prisma registry (or `wrap` of it) over this run's database; users are rows of its User table. */
function prismaUnderTest(wrap?: (registry: ReturnType<typeof prismaSessionRegistry>) => RegistryUnderTest["registry"] & { close?(): Promise<void> }): () => Promise<RegistryUnderTest> {
  return async () => {
    const registry: RegistryUnderTest["registry"] & { close?(): Promise<void> } = wrap ? wrap(prismaSessionRegistry(prisma)) : prismaSessionRegistry(prisma);
    let n = 0;
    return {
      registry,
      newUser: async () => (await prisma.user.create({ data: { email: `conformance-${process.pid}-${Date.now()}-${++n}@example.com` } })).id,
      storedProvider: async (sid) => {
        const row = await prisma.userSession.findUniqueOrThrow({ where: { id: sid }, select: { idpIssuer: true, idpSubject: true, idpSid: true } });
        return { issuer: row.idpIssuer, subject: row.idpSubject, sid: row.idpSid };
      },
      close: async () => registry.close?.(),
    };
  };
}

sessionRegistryConformance(`prismaSessionRegistry (${TEST_DB})`, prismaUnderTest());
sessionRegistryConformance(`cachedSessionRegistry(prismaSessionRegistry) (${TEST_DB})`, prismaUnderTest((inner) => cachedSessionRegistry(inner, { changes: prismaChangeLog(prisma) })));
