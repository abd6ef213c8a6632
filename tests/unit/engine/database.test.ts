// The kit under Auth.js's database strategy (engine/database.ts), driven as Auth.js drives it: the
// adapter creates a Session row, `events.signIn` follows, then `session({ session, user, trigger,
// newSession })` on every read. Races and failures that integration tests can only hope to hit.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Adapter, AdapterSession } from "@auth/core/adapters";
import { claimsKit, permissions, tenant } from "@/lib/claims-kit";
import { definePermissions } from "@/lib/claims-kit/access";
import { memorySessionRegistry, type SessionRegistry } from "@/lib/claims-kit/plugin";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { sessionIdOfToken } from "@/lib/claims-kit/engine/meta";
import type { RequestInfo } from "@/lib/claims-kit/engine/types";
import { fakeClock, memoryLogger } from "../fixtures";

const access = definePermissions({ permissions: ["doc:read", "doc:write"], roles: { admin: "*", member: ["doc:read"] } });
const USER = { id: "u1", name: "Ann", email: "ann@example.com", emailVerified: null, image: null };

/** A registry whose next writeState lets `before`'s request write first (between that write's read and its write). */
function racingRegistry() {
  const inner = memorySessionRegistry();
  let interfere: (() => Promise<void>) | undefined;
  const registry: SessionRegistry = {
    ...inner,
    check: (sid) => inner.check(sid),
    async writeState(sid, state, expected) {
      const other = interfere;
      interfere = undefined;
      if (other) await other();
      return inner.writeState!(sid, state, expected);
    },
  };
  return { registry, before: (request: () => Promise<void>) => void (interfere = request) };
}

function setup(registry: SessionRegistry = memorySessionRegistry(), requestInfo?: () => Promise<RequestInfo>) {
  const clock = fakeClock();
  const memberships: Record<string, string> = { t1: "admin", t2: "member" };
  const kit = claimsKit({
    clock: clock.now,
    requestInfo,
    logger: memoryLogger(),
    sessions: registry,
    freshness: { maxAge: 300 },
    plugins: [
      tenant({ roles: ["admin", "member"], defaultTenant: () => ({ tenantId: "t1", role: memberships.t1! }), membership: (_u, t) => (memberships[t] ? { role: memberships[t]! } : null) }),
      permissions({ set: access, from: ["tenantRole"] }),
    ] as const,
  });
  const rows = new Map<string, AdapterSession>();
  const adapter = kit.adapter({
    async createSession(s: AdapterSession) {
      const row = { ...s, id: `row-${rows.size + 1}` } as AdapterSession;
      rows.set(s.sessionToken, row);
      return row;
    },
    async getSessionAndUser(sessionToken: string) {
      const session = rows.get(sessionToken);
      return session ? { session, user: USER } : null;
    },
  } as Adapter);
  /** Auth.js's callback request: the Session row, then the sign-in event. */
  async function signIn(sessionToken: string) {
    await adapter.createSession!({ sessionToken, userId: USER.id, expires: new Date(clock.now() + 86_400_000) });
    await kit.events.signIn({ user: USER, account: null, profile: { sub: "idp-u1", iss: "https://idp.example", auth_time: 1_700_000_000 } });
  }
  /** Auth.js's session action for that cookie. */
  const read = (sessionToken: string, update?: unknown) =>
    kit.callbacks.session({
      session: { ...rows.get(sessionToken)!, user: USER } as never,
      user: USER,
      ...(update === undefined ? {} : { trigger: "update" as const, newSession: update }),
    } as never) as unknown as Promise<{ claims: Record<string, unknown>; update?: { code?: string } }>;
  return { kit, clock, memberships, signIn, read, rows };
}

describe("database sessions (engine/database.ts)", () => {
  test("sign-in through the wrapped adapter and the event: claims on the first read, the id_token's auth_time kept", async () => {
    const registry = memorySessionRegistry();
    const { signIn, read, kit } = setup(registry);
    await signIn("tok-1");
    const session = await read("tok-1");
    const state = await internalsOf(kit).stateOfSessionToken("tok-1");
    assert.equal(state?.auth_time, 1_700_000_000);
    assert.equal(session.claims.tenantRole, "admin");
    assert.deepEqual([...access.decode(session.claims.permissions)], ["doc:read", "doc:write"]);
    const listed = await registry.list(USER.id);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.providerSid, null);
  });

  test("an update that loses a race to a reload is laid over the newer state: both land", async () => {
    const race = racingRegistry();
    const { read, signIn, clock, memberships } = setup(race.registry);
    await signIn("tok-2");
    await read("tok-2");
    clock.advance(301);
    memberships.t1 = "member"; // a reload would now demote
    race.before(async () => void (await read("tok-2"))); // the racing read: reloads and saves first
    const switched = await read("tok-2", { intent: "switchTenant", input: { tenantId: "t2" } });
    assert.equal(switched.update?.code, undefined);
    const after = await read("tok-2");
    assert.equal(after.claims.tenantId, "t2", "the switch is not lost");
    assert.equal(after.claims.tenantRole, "member");
  });

  test("an update laid over a newer state keeps nothing that state re-checked: a tenant membership removed with a claims-version bump in between ends the tenant's role", async () => {
    // The update's membership check ran before the removal; a read after the bump reloaded and
    // saved first. Laid over that state with its claims version, the switch's role was never
    // checked again (under the JWT strategy the update's cookie keeps the older version and reloads).
    const race = racingRegistry();
    const { read, signIn, memberships, kit } = setup(race.registry);
    memberships.t1 = "member";
    memberships.t2 = "admin";
    await signIn("tok-5");
    assert.equal((await read("tok-5")).claims.tenantRole, "member");
    race.before(async () => {
      delete memberships.t2; // an admin removes the user from t2…
      await kit.sessions.reloadClaims(USER.id); // …and makes every session reload
      await read("tok-5"); // another request reloads under the new version and saves first
    });
    const switched = await read("tok-5", { intent: "switchTenant", input: { tenantId: "t2" } });
    assert.equal(switched.update?.code, undefined, "accepted: its check ran before the removal");
    const after = await read("tok-5");
    assert.notEqual(after.claims.tenantRole, "admin", "no admin role in a tenant the user was removed from");
    assert.equal(after.claims.tenantId, "t1", "back to the default tenant, as any reload after the removal leaves it");
  });

  test("a session the registry ended reads as signed out (Auth.js answers null for a throw), and stays so", async () => {
    const registry = memorySessionRegistry();
    const { read, signIn, kit } = setup(registry);
    await signIn("tok-3");
    await read("tok-3");
    const [listed] = await registry.list(USER.id);
    await kit.sessions.revoke(listed!.sid);
    await assert.rejects(read("tok-3"), /the session has ended/);
    await assert.rejects(read("tok-3"), /the session has ended/);
  });

  test("server helpers see no state for a session Auth.js no longer holds: its row expired or deleted without the kit", async () => {
    // getAccessToken(), readServerData(), sessionActive() and readToken() read the kit's state by
    // the cookie's session token, without Auth.js's lookup. A copied session token went on getting
    // the user's access token (and server data) after its session expired (Auth.js deletes the row
    // when it reads it, with no event), or after a sign-out through an adapter whose deleteSession
    // returns nothing (the signOut event then names no session to revoke).
    const { signIn, read, kit, rows, clock } = setup();
    const internals = internalsOf(kit);
    await signIn("tok-6");
    await read("tok-6");
    assert.ok(await internals.stateOfSessionToken("tok-6"), "live: its state");
    clock.advance(86_401); // past the row's expiry
    assert.equal(await internals.stateOfSessionToken("tok-6"), null, "expired");
    await signIn("tok-7");
    await read("tok-7");
    rows.delete("tok-7"); // deleted by Auth.js's adapter, an admin tool, another app
    assert.equal(await internals.stateOfSessionToken("tok-7"), null, "deleted");
  });

  test("a Session row the kit has not seen, read in two processes at once: the second never ends the session the first recorded", async () => {
    // Adopting the row runs the sign-in pipeline, and a sign-in ends the session the browser already
    // had -- here the cookie's own. The second process, past its check before the first recorded the
    // row, revoked it as "replaced" (with the Prisma registry: the Auth.js row deleted, signed out).
    const inner = memorySessionRegistry();
    const revoked: string[] = [];
    let first: (() => Promise<unknown>) | undefined;
    const registry: SessionRegistry = {
      ...inner,
      async check(sid) {
        const state = await inner.check(sid);
        const run = first;
        first = undefined;
        if (run) await run(); // the other process adopts the row meanwhile
        return state;
      },
      async revoke(where, now, by) {
        if ("sid" in where) revoked.push(where.sid);
        return inner.revoke(where, now, by);
      },
    };
    const requestInfo = async () => ({ userAgent: "test", previousSessionId: await sessionIdOfToken("tok-8") });
    const a = setup(registry, requestInfo);
    const b = setup(registry, requestInfo);
    for (const p of [a, b]) p.rows.set("tok-8", { sessionToken: "tok-8", userId: USER.id, expires: new Date(p.clock.now() + 86_400_000), id: "row-8" } as AdapterSession);
    first = () => a.read("tok-8");
    const session = await b.read("tok-8");
    assert.equal(session.claims.tenantId, "t1");
    assert.deepEqual(revoked, [], "no revocation");
    assert.equal((await inner.check(await sessionIdOfToken("tok-8")))?.revoked, false);
  });

  test("a registry check that fails right after the read that loaded the state neither ends nor revokes the session", async () => {
    // The stored state's checkedAt only moves when the state is written, and a read that changes
    // nothing writes nothing: a session idle in that sense for failOpenFor (60 s) was past its
    // fail-open window at the pipeline's own registry check, though the registry had answered for
    // it a moment before. One slow answer (checkTimeoutMs) then revoked it for good, Auth.js row
    // included.
    const inner = memorySessionRegistry();
    let failNext = false;
    let checks = 0;
    const registry: SessionRegistry = {
      ...inner,
      check(sid) {
        checks++;
        // Every second check of a read (the pipeline's, after the one that loaded the state) fails.
        if (failNext && checks % 2 === 0) return Promise.reject(new Error("no answer within 2000 ms"));
        return inner.check(sid);
      },
    };
    const { signIn, read, clock } = setup(registry);
    await signIn("tok-9");
    await read("tok-9");
    clock.advance(120);
    checks = 0;
    failNext = true;
    const session = await read("tok-9");
    assert.equal(session.claims.tenantId, "t1", "served");
    failNext = false;
    const [listed] = await inner.list(USER.id);
    assert.ok(listed, "not revoked");
    assert.equal((await read("tok-9")).claims.tenantId, "t1", "and still signed in");
  });

  test("a registry that cannot keep state is named at the first read", async () => {
    const { writeState: _none, ...stateless } = memorySessionRegistry();
    const { read, rows, kit } = setup(stateless as SessionRegistry);
    rows.set("tok-4", { sessionToken: "tok-4", userId: USER.id, expires: new Date() } as AdapterSession);
    void kit;
    await assert.rejects(read("tok-4"), /option "sessions" is required under Auth.js's database strategy/);
  });
});
