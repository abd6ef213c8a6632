import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClaimsKitError, oauthRefresh, processRefreshResponse, singleFlight, type AccountRef, type TokenVault, type VaultEntry } from "@/lib/claims-kit";
import type { TokenEndpointResult } from "@/lib/claims-kit/refresh/token-endpoint";

const NOW = 1_800_000_000;
const response = (status: number, body: unknown): TokenEndpointResult => ({ kind: "response", status, body: typeof body === "string" ? body : JSON.stringify(body) });

describe("processRefreshResponse", () => {
  test("a rotated token set", () => {
    assert.deepEqual(processRefreshResponse(response(200, { access_token: "a2", refresh_token: "r2", expires_in: 300, token_type: "Bearer" }), "r1", NOW), {
      ok: true,
      tokens: { accessToken: "a2", refreshToken: "r2", expiresAt: NOW + 300, rotated: true },
    });
  });

  test("no refresh token in the answer keeps the previous one; no expires_in assumes an hour", () => {
    const out = processRefreshResponse(response(200, { access_token: "a2", id_token: "i2" }), "r1", NOW);
    assert.deepEqual(out, { ok: true, tokens: { accessToken: "a2", refreshToken: "r1", expiresAt: NOW + 3600, idToken: "i2", rotated: false } });
  });

  test("errors map to stable codes", () => {
    const cases: Array<[TokenEndpointResult, string]> = [
      [response(400, { error: "invalid_grant" }), "invalid_grant"],
      [response(401, { error: "invalid_client" }), "client_error"],
      [response(400, { error: "unauthorized_client" }), "client_error"],
      [response(500, { error: "server_error" }), "server_error"],
      [response(503, "upstream down"), "server_error"],
      [response(429, { error: "slow_down" }), "server_error"],
      [response(200, "{not json"), "server_error"],
      [response(200, { token_type: "Bearer" }), "server_error"],
      [response(200, { access_token: "a", expires_in: -5 }), "server_error"],
      [{ kind: "timeout" }, "timeout"],
      [{ kind: "network", message: "ECONNRESET" }, "network"],
    ];
    for (const [result, code] of cases) {
      const out = processRefreshResponse(result, "r1", NOW);
      assert.equal(out.ok, false);
      assert.equal(!out.ok && out.code, code, JSON.stringify(result));
    }
  });
});

describe("singleFlight", () => {
  test("concurrent calls with one key share one run; a settled run is not reused", async () => {
    const flight = singleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const run = async () => {
      runs++;
      await gate;
      return runs;
    };
    const all = Promise.all([flight("a", run), flight("a", run), flight("a", run), flight("b", run)]);
    release();
    assert.deepEqual(await all, [2, 2, 2, 2]);
    assert.equal(runs, 2);
    assert.equal(flight.size(), 0);
    await flight("a", run);
    assert.equal(runs, 3);
  });

  test("a failure reaches every waiter and is not cached", async () => {
    const flight = singleFlight<number>();
    let calls = 0;
    const boom = async () => {
      calls++;
      throw new Error("down");
    };
    const results = await Promise.allSettled([flight("k", boom), flight("k", boom)]);
    assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
    await assert.rejects(flight("k", boom));
    assert.equal(calls, 2);
  });
});

/** A fake token endpoint: counts calls, rotates, can be told to fail. */
function fakeProvider() {
  const state = { calls: 0, next: 1, failWith: null as null | number, live: "r0" };
  const fetcher = (async (_url: string | URL | Request, init?: RequestInit) => {
    state.calls++;
    await new Promise((r) => setTimeout(r, 5));
    const presented = new URLSearchParams(String(init?.body)).get("refresh_token");
    if (state.failWith) return new Response(JSON.stringify({ error: "server_error" }), { status: state.failWith });
    if (presented !== state.live) return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 });
    state.live = `r${state.next}`;
    return new Response(JSON.stringify({ access_token: `a${state.next++}`, refresh_token: state.live, expires_in: 60 }), { status: 200 });
  }) as typeof fetch;
  return { state, fetcher };
}

/** An in-memory vault with a real compare-and-set lease, shared by "processes". */
function memoryVault(initial: Partial<VaultEntry>): TokenVault & { entry: VaultEntry } {
  const entry: VaultEntry = { accessToken: "a0", refreshToken: "r0", idToken: null, expiresAt: NOW + 60, refreshedAt: NOW, refreshCount: 0, refreshError: null, leaseOwner: null, leaseUntil: null, ...initial };
  return {
    entry,
    read: async () => ({ ...entry }),
    store: async (_r: AccountRef, t, now) => void Object.assign(entry, { accessToken: t.accessToken, refreshToken: t.refreshToken ?? entry.refreshToken, expiresAt: t.expiresAt, refreshedAt: now }),
    acquire: async (_r, owner, now, until) => {
      if (entry.leaseUntil !== null && entry.leaseUntil >= now) return false;
      Object.assign(entry, { leaseOwner: owner, leaseUntil: until });
      return true;
    },
    complete: async (_r, t, now) => void Object.assign(entry, { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt, refreshedAt: now, refreshCount: entry.refreshCount + 1, leaseOwner: null, leaseUntil: null, refreshError: null }),
    release: async (_r, owner, error) => {
      if (entry.leaseOwner === owner) Object.assign(entry, { leaseOwner: null, leaseUntil: null, refreshError: error });
    },
    accountsOf: async () => [{ provider: "oidc", providerAccountId: "u1" }],
    clear: async (_r, error) => void Object.assign(entry, { accessToken: null, refreshToken: null, refreshError: error }),
  };
}

const log = { info() {}, warn() {}, error() {} };
const base = { provider: "oidc", tokenEndpoint: "https://idp.example/token", clientId: "app", clientSecret: "s", logger: log };

describe("oauthRefresh", () => {
  test("options are checked at start-up, naming the option", () => {
    assert.throws(() => oauthRefresh({ ...base, provider: "" }), /oauthRefresh: option "provider"/);
    assert.throws(() => oauthRefresh({ ...base }), /oauthRefresh: option "vault" is required in "vault" mode/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", tokenEndpoint: undefined }), /option "issuer" or tokenEndpoint is required/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientSecret: undefined }), /option "clientSecret" is required/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", skewSeconds: -1 }), /option "skewSeconds"/);
  });

  test("vault mode: two instances sharing a vault make one provider call between them", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW + 10 });
    const a = oauthRefresh({ ...base, vault, fetch: fetcher });
    const b = oauthRefresh({ ...base, vault, fetch: fetcher });
    const token = { sub: "u", oauth: { p: "oidc", a: "u1", e: NOW + 10, i: NOW - 50 } };
    const ctx = { token, userId: "u", now: NOW + 5, log, trigger: undefined, report: () => {} };
    const results = await Promise.all([...Array(10)].map((_, i) => (i % 2 ? a : b).jwt!(ctx)));
    assert.equal(state.calls, 1);
    for (const r of results) assert.deepEqual(r, { oauth: { p: "oidc", a: "u1", e: NOW + 5 + 60, i: NOW + 5 } });
    assert.equal(vault.entry.refreshToken, "r1");
    assert.equal(vault.entry.refreshCount, 1);
  });

  test("vault mode: a transient failure keeps the last good refresh token; the next request recovers", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    const ctx = { token: { oauth: { p: "oidc", a: "u1", e: NOW, i: NOW - 60 } }, userId: "u", now: NOW + 1, log, trigger: undefined, report: () => {} };
    state.failWith = 503;
    await assert.rejects(Promise.resolve(plugin.jwt!(ctx)), (e: unknown) => e instanceof ClaimsKitError && e.code === "server_error");
    assert.equal(vault.entry.refreshToken, "r0");
    assert.equal(vault.entry.refreshError, null, "transient: not recorded as terminal");
    assert.equal(vault.entry.leaseOwner, null, "lease released");
    state.failWith = null;
    assert.equal((await plugin.jwt!(ctx))?.oauth?.e, NOW + 1 + 60);
    assert.equal(vault.entry.refreshToken, "r1");
  });

  test("vault mode: invalid_grant is terminal and not retried", async () => {
    const { state, fetcher } = fakeProvider();
    state.live = "something-else";
    const vault = memoryVault({ expiresAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    const ctx = { token: { oauth: { p: "oidc", a: "u1", e: NOW, i: NOW - 60 } }, userId: "u", now: NOW + 1, log, trigger: undefined, report: () => {} };
    await assert.rejects(Promise.resolve(plugin.jwt!(ctx)), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_grant");
    await assert.rejects(Promise.resolve(plugin.jwt!(ctx)), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_grant");
    assert.equal(state.calls, 1);
  });

  test("cookie mode: concurrent requests and late requests with the previous refresh token share one refresh", async () => {
    const { state, fetcher } = fakeProvider();
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher });
    const token = { oauth: { at: "a0", rt: "r0", e: NOW + 10, i: NOW - 50 } };
    const ctx = { token, userId: "u", now: NOW + 5, log, trigger: undefined, report: () => {} };
    const first = await Promise.all([...Array(20)].map(() => plugin.jwt!(ctx)));
    const late = await plugin.jwt!(ctx);
    assert.equal(state.calls, 1, "one provider call; the late request got the grace result");
    for (const r of [...first, late]) assert.deepEqual(r, { oauth: { at: "a1", rt: "r1", e: NOW + 65, i: NOW + 5 } });
  });

  test("the skew is capped at half the token's lifetime", () => {
    const plugin = oauthRefresh({ ...base, mode: "cookie", skewSeconds: 60 });
    const shortLived = { oauth: { at: "a", rt: "r", e: NOW + 4, i: NOW } };
    assert.equal(plugin.isDue(shortLived, NOW + 1), false);
    assert.equal(plugin.isDue(shortLived, NOW + 2), true);
    const hourLong = { oauth: { at: "a", rt: "r", e: NOW + 3600, i: NOW } };
    assert.equal(plugin.isDue(hourLong, NOW + 3539), false);
    assert.equal(plugin.isDue(hourLong, NOW + 3540), true);
  });
});

describe("oauthRefresh: terminal failures", () => {
  test("cookie mode: a refused refresh token is not sent to the provider again", async () => {
    const { state, fetcher } = fakeProvider();
    state.live = "something-else";
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher });
    const ctx = { token: { oauth: { at: "a0", rt: "r0", e: NOW, i: NOW - 60 } }, userId: "u", now: NOW + 1, log, trigger: undefined, report: () => {} };
    for (let i = 0; i < 3; i++) {
      await assert.rejects(Promise.resolve(plugin.jwt!(ctx)), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_grant");
    }
    assert.equal(state.calls, 1);
  });

  test("vault mode: a stored terminal error keeps its own code", async () => {
    const { fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW, refreshError: "client_error" });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    const ctx = { token: { oauth: { p: "oidc", a: "u1", e: NOW, i: NOW - 60 } }, userId: "u", now: NOW + 1, log, trigger: undefined, report: () => {} };
    await assert.rejects(Promise.resolve(plugin.jwt!(ctx)), (e: unknown) => e instanceof ClaimsKitError && e.code === "client_error");
  });
});
