// prismaServerDataStore (issue #26): a write that changes nothing stored is skipped, unless the
// row's expiry is due to move on.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { prismaServerDataStore, type SessionDataDelegate } from "@/lib/claims-kit/prisma";

/** A SessionData table in memory, counting upserts. */
function table() {
  const rows = new Map<string, { data: string; expiresAt: Date | null }>();
  let upserts = 0;
  const delegate: SessionDataDelegate = {
    findUnique: async ({ where }) => rows.get(where.key) ?? null,
    upsert: async ({ where, create, update }) => {
      upserts++;
      rows.set(where.key, rows.has(where.key) ? update : create);
    },
    deleteMany: async ({ where }) => ({ count: (typeof where.key === "string" ? [where.key] : where.key.in).filter((key) => rows.delete(key)).length }),
  };
  return { delegate, rows, upserts: () => upserts };
}

const DAY = 24 * 60 * 60 * 1000;

describe("prismaServerDataStore", () => {
  test("an unchanged write is skipped; a change, a deleted key or an expiry more than a day on is written", async () => {
    let now = Date.UTC(2026, 11, 1);
    const t = table();
    const store = prismaServerDataStore(t.delegate, () => now);
    const expires = () => new Date(now + 30 * DAY);
    await store.write("s:1", "u1", { tenants: ["a"] }, expires());
    await store.write("s:1", "u1", { tenants: ["a"] }, expires());
    assert.equal(t.upserts(), 1, "the same data again: nothing written");
    await store.write("s:1", "u1", { tenants: ["a", "b"] }, expires());
    assert.equal(t.upserts(), 2);
    await store.write("s:1", "u1", { other: null }, expires());
    assert.equal(t.upserts(), 2, "deleting a key that is not there changes nothing");
    await store.write("s:1", "u1", { tenants: null }, expires());
    assert.equal(t.upserts(), 3);
    assert.deepEqual(await store.read("s:1"), {});
    now += DAY - 1000;
    await store.write("s:1", "u1", {}, expires());
    assert.equal(t.upserts(), 3, "the expiry moves on less than a day: not written");
    now += 2000;
    await store.write("s:1", "u1", {}, expires());
    assert.equal(t.upserts(), 4, "more than a day: written, with the later expiry");
    assert.equal(t.rows.get("s:1")!.expiresAt!.getTime(), now + 30 * DAY);
  });

  test("an expired row reads as none and is written again", async () => {
    let now = Date.UTC(2026, 11, 1);
    const t = table();
    const store = prismaServerDataStore(t.delegate, () => now);
    await store.write("s:1", "u1", { tenants: ["a"] }, new Date(now + 1000));
    now += 2000;
    assert.equal(await store.read("s:1"), null);
    await store.write("s:1", "u1", { tenants: ["a"] }, new Date(now + 30 * DAY));
    assert.equal(t.upserts(), 2);
  });
});
