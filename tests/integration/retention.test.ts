// Retention (issue #26): kit.sessions.purge() on the reference app's real kit and database (SQLite,
// or PostgreSQL with KIT_TEST_DB=postgres). Sessions unused past their lifetime are marked ended
// ("expired"), sessions ended longer ago than the retention are deleted with their server-side
// data, the change log is pruned; an active session, a recently ended one and their data stay, and
// a registry cache whose log position was pruned away starts its view again instead of serving a
// stale state.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import type { PrismaClient } from "../../prisma/generated/prisma/client";
import { ClaimsKitError, claimsKit } from "../../lib/claims-kit";
import { cachedSessionRegistry, memorySessionRegistry, type ChangeFeed } from "../../lib/claims-kit/plugin";
import { prismaChangeLog, prismaSessionRegistry } from "../../lib/claims-kit/prisma";
import { fakeClock, freshDatabase } from "./harness";

const DAY = 24 * 60 * 60;
const clock = fakeClock();
const now = () => Math.floor(clock.now() / 1000);
let db: { url: string; drop: () => Promise<void> };
let prisma: PrismaClient;
let app: ReturnType<typeof import("../../auth.config").createAuth>;
let userId: string;

before(async () => {
  db = await freshDatabase();
  const { createPrismaClient } = await import("../../app/_lib/db-client");
  prisma = createPrismaClient(db.url);
  const { seed } = await import("../../prisma/seed-data");
  await seed(prisma);
  const { createAuth } = await import("../../auth.config");
  const { readEnv } = await import("../../app/_lib/env");
  const env = readEnv({ NODE_ENV: "test", DATABASE_URL: db.url, AUTH_SECRET: "retention-test-secret-0123456789abcdef", AUTH_OIDC_ISSUER: "http://127.0.0.1:1", AUTH_OIDC_ID: "app", AUTH_OIDC_SECRET: "secret" });
  app = createAuth(env, { prisma, clock: clock.now, logger: { info() {}, warn() {}, error() {} } });
  userId = (await prisma.user.findFirstOrThrow({ where: { email: "alice@example.com" } })).id;
});

after(async () => {
  await app.close();
  await prisma.$disconnect();
  await db.drop();
});

async function signIn(): Promise<{ token: JWT; sid: string }> {
  const token = await app.kit.callbacks.jwt({
    token: { sub: userId, email: "alice@example.com" },
    user: { id: userId, email: "alice@example.com" },
    account: { provider: "oidc", type: "oidc", providerAccountId: `idp-${userId}` },
    profile: { sub: `idp-${userId}`, iss: "http://127.0.0.1:1" },
    trigger: "signIn",
  });
  assert.ok(token);
  const { internalsOf } = await import("../../lib/claims-kit/engine/kit");
  return { token, sid: internalsOf(app.kit).sessionId(token)! };
}
const read = (token: JWT) => app.kit.callbacks.jwt({ token: structuredClone(token) });
const row = (sid: string) => prisma.userSession.findUnique({ where: { id: sid }, select: { revokedAt: true, endedBy: true } });
const data = (sid: string) => prisma.sessionData.findUnique({ where: { key: `s:${sid}` } });

test("purge: expired sessions marked, old ended ones deleted with their data, in batches; the active and the recently ended stay, with their data", async () => {
  const active = await signIn();
  const oldEnded = [await signIn(), await signIn()];
  const unused = await signIn();
  const recent = await signIn();
  for (const s of [active, oldEnded[0]!, oldEnded[1]!, unused, recent]) assert.ok(await data(s.sid), "server data written at sign-in");
  for (const s of oldEnded) await app.kit.sessions.revoke(s.sid, { by: "user" });
  // A process that was paused: its view of the log stops here (it never polls, nothing wakes it).
  const quiet: ChangeFeed = { crossProcess: true, subscribe: () => () => undefined, publish: async () => undefined };
  const paused = cachedSessionRegistry(prismaSessionRegistry(prisma), { changes: prismaChangeLog(prisma), feed: quiet, pollMs: 60_000, safetyPollMs: 60_000 });
  try {
    assert.equal((await paused.check(recent.sid))?.revoked, false, "cached live in the paused process");
    clock.advance(31 * DAY);
    // The active and the recent session are used after a month; then the recent one signs out.
    let activeToken = (await read(active.token))!;
    assert.ok(activeToken, "the active session is used");
    assert.ok(await read(recent.token));
    await app.kit.sessions.revoke(recent.sid, { by: "user" });

    const first = await app.kit.sessions.purge({ batchSize: 1 });
    assert.deepEqual({ expired: first.expired, deleted: first.deleted }, { expired: 1, deleted: 2 });
    assert.ok(first.serverData >= 2, `server data rows deleted: ${first.serverData}`);
    assert.ok(first.changes >= 2, `change-log rows pruned: ${first.changes}`);
    const ended = await row(unused.sid);
    assert.deepEqual({ revokedAt: Number(ended?.revokedAt), endedBy: ended?.endedBy }, { revokedAt: now(), endedBy: "expired" });
    for (const s of oldEnded) {
      assert.equal(await row(s.sid), null, "an old ended session is deleted");
      assert.equal(await data(s.sid), null, "with its server data");
      assert.equal(await read(s.token), null, "its cookie is refused");
    }
    assert.equal(await read(unused.token), null, "an expired session's cookie is refused");
    assert.deepEqual(await row(active.sid), { revokedAt: null, endedBy: null });
    assert.ok(await data(active.sid), "the active session's data stays");
    assert.equal((await row(recent.sid))?.endedBy, "user", "the recently ended session stays listed");
    assert.ok(await data(recent.sid), "with its data");
    assert.deepEqual((await app.kit.sessions.listEnded(userId)).map((s) => [s.sid, s.endedBy]).sort(), [[recent.sid, "user"], [unused.sid, "expired"]].sort());
    activeToken = (await read(activeToken))!;
    assert.ok(activeToken, "the active session stays signed in");

    // The paused process's position and the rows after it were pruned: it starts its view again
    // (everything it cached forgotten), instead of serving the recent session as live.
    await paused.sync();
    assert.equal((await paused.check(recent.sid))?.revoked, true, "the paused process serves a state its pruned log no longer vouches for");

    assert.deepEqual(await app.kit.sessions.purge(), { expired: 0, deleted: 0, serverData: 0, changes: 0, replay: 0, events: 0 }, "a second purge finds nothing");
  } finally {
    await paused.close();
  }
});

test("purge: bad options and stores without retention methods are refused with stable codes, before anything is deleted", async () => {
  await assert.rejects(app.kit.sessions.purge({ batchSize: 0 }), (err: unknown) => err instanceof ClaimsKitError && err.code === "invalid_option" && err.option === "batchSize");
  await assert.rejects(app.kit.sessions.purge({ keepFor: -1 }), (err: unknown) => err instanceof ClaimsKitError && err.code === "invalid_option" && err.option === "keepFor");
  const { expire: _expire, purgeEnded: _purgeEnded, ...bare } = memorySessionRegistry();
  const kit = claimsKit({ plugins: [], sessions: bare });
  await assert.rejects(kit.sessions.purge(), (err: unknown) => err instanceof ClaimsKitError && err.code === "purge_unsupported" && /session registry cannot purge \(it has no expire\/purgeEnded\)/.test(err.message));
  await assert.rejects(app.kit.sessions.purge({ replay: { once: async () => true, forget: async () => undefined } }), (err: unknown) => err instanceof ClaimsKitError && err.code === "purge_unsupported" && /replay store/.test(err.message));
});
