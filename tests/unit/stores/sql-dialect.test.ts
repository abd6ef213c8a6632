// isPostgres (retention's batches, sql-dialect.ts): which statement form a Prisma store sends is
// decided by one probe per client, from the type of `SELECT TRUE`. The forms themselves run against
// SQLite and PostgreSQL in tests/integration/retention.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RawSqlClient } from "@/lib/claims-kit/prisma";
import { isPostgres } from "@/lib/claims-kit/stores/sql-dialect";

/** A client answering `SELECT TRUE` with `answer` (or failing), counting the probes. */
function client(answer: () => unknown) {
  let probes = 0;
  const db = {
    $queryRaw: async () => {
      probes++;
      return [{ t: answer() }];
    },
    $executeRaw: async () => 0,
  } as unknown as RawSqlClient;
  return { db, probes: () => probes };
}

describe("isPostgres", () => {
  test("a boolean is PostgreSQL; 1 (SQLite), 1n or anything else is not; asked once per client", async () => {
    const pg = client(() => true);
    assert.equal(await isPostgres(pg.db), true);
    assert.equal(await isPostgres(pg.db), true);
    assert.equal(pg.probes(), 1);
    for (const other of [1, 1n, "t", null]) assert.equal(await isPostgres(client(() => other).db), false, String(other));
  });

  test("a failed probe is not remembered: the next call asks again", async () => {
    let down = true;
    const c = client(() => {
      if (down) throw new Error("connection refused");
      return true;
    });
    await assert.rejects(isPostgres(c.db), /connection refused/);
    down = false;
    assert.equal(await isPostgres(c.db), true);
    assert.equal(c.probes(), 2);
  });
});
