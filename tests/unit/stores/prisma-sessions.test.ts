// prismaSessionRegistry's compare-and-set rewrite of the pending patch, against a database stub
// (security review round 4). The registry as a whole runs against SQLite and PostgreSQL in
// tests/integration/session-registry.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { withValues } from "@/lib/claims-kit/engine/patches";
import { withTimers } from "../fixtures";
import { prismaSessionRegistry } from "@/lib/claims-kit/prisma";

describe("review round 4: a pending-patch rewrite that cannot land", () => {
  // Finding: the Prisma registry's compare-and-set loop gave up after 5 attempts and returned "not
  // written", exactly as when there was nothing to write: 6 requests of one session writing at once
  // (tabs, supersedes after a max-age reload, an offline update) silently lost a change, so an
  // older copy could roll back a recorded choice, and nobody was told. The concurrent version runs
  // against SQLite and PostgreSQL in tests/integration/session-registry.test.ts (the conformance suite).
  test("review round 4: a rewrite that keeps losing the compare-and-set throws instead of reporting nothing written", async (t) => {
    // Its 100 attempts' short random waits run on mocked timers.
    t.mock.timers.enable({ apis: ["setTimeout"] });
    let version = 0;
    const db = {
      // A database stub, not a registry: no real database can be made to lose every compare-and-set.
      // Another writer always gets in first: the stored text changes between every read and write.
      $queryRaw: async () => [{ id: "s1", pendingPatch: `{"id":"p${version++}"}`, v: 0 }],
      $executeRaw: async () => 0,
    };
    const registry = prismaSessionRegistry(db as never);
    await assert.rejects(withTimers(t.mock.timers, registry.rewritePatch({ sid: "s1" }, (current) => withValues(current, { tier: "pro" }, 1).text)), /changed under each of \d+ attempts/);
  });
});
