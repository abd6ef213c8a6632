// The refresh lease in vault mode (refresh/vault-mode.ts): the hold after rotated tokens could not
// be saved (issue #22), the lease over the whole refresh (review item 4), and no hold after a vault
// error before the provider call (security review round 4).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh } from "@/lib/claims-kit";
import { type VaultEntry } from "@/lib/claims-kit/plugin";
import { memoryVault } from "../vault-fake";
import { base, context, fakeProvider, recordingLog, rotatingProvider, vaultToken } from "./support";
import { withTimers } from "../fixtures";

const NOW = 1_800_000_000;

describe("oauthRefresh: the hold (issue #22)", () => {
  test("vault mode: while A holds rotated tokens it could not save, B neither presents the consumed token nor waits for A; the bound is the 10-minute hold", async (t) => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    let wall = NOW * 1000;
    const wallClock = () => wall;
    const a = oauthRefresh({ ...base, vault, fetch: fetcher, clock: wallClock });
    const b = oauthRefresh({ ...base, vault, fetch: fetcher, clock: wallClock });
    vault.control.failSaves = Infinity;
    // A's save retries wait on mocked timers; B runs on real ones, so that a wait of B's would show.
    t.mock.timers.enable({ apis: ["setTimeout"] });
    assert.deepEqual(await withTimers(t.mock.timers, a.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx)), { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } });
    t.mock.timers.reset();
    assert.equal(vault.entry.leaseUntil, NOW + 600, "the lease was taken for the hold");
    for (const after of [30, 60, 599]) {
      wall = (NOW + after) * 1000;
      const started = Date.now();
      const { ctx, reports } = context(vaultToken(NOW, NOW - 60), NOW + 62);
      assert.equal(await b.jwt!(ctx), undefined);
      assert.deepEqual(reports, ["server_error"]);
      assert.ok(Date.now() - started < 1000, "past A's call window B does not wait for it");
    }
    assert.deepEqual(state.presented, ["r0"], "r0 never presented again within the hold");
    // The bound: once the hold has passed with the tokens still unsaved, B takes the lease and
    // presents the consumed token (the provider refuses it; with reuse detection the grant is lost).
    wall = (NOW + 601) * 1000;
    await b.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 62).ctx);
    assert.deepEqual(state.presented, ["r0", "r0"]);
    vault.control.failSaves = 0;
  });

  test("vault mode: within the holder's call window another instance waits for its result", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = (async (url: string | URL | Request, init?: RequestInit) => {
      await gate;
      return fetcher(url, init);
    }) as typeof fetch;
    const a = oauthRefresh({ ...base, vault, fetch: slow });
    const b = oauthRefresh({ ...base, vault, fetch: slow });
    const first = a.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx);
    await new Promise((r) => setTimeout(r, 20));
    const second = b.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx);
    setTimeout(release, 150);
    assert.deepEqual(await Promise.all([first, second]), [{ oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } }, { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } }]);
    assert.equal(state.calls, 1);
  });
});

describe("oauthRefresh: the lease covers the whole refresh (review item 4)", () => {
  const discoveryBase = { ...base, tokenEndpoint: undefined, issuer: "https://idp.example" };

  test("vault mode: a failed discovery takes no lease and is not retried under one", async () => {
    const { state, fetcher } = fakeProvider();
    let discoveries = 0;
    const failingDiscovery = (async (url: string | URL | Request, init?: RequestInit) => {
      if (String(url).includes("/.well-known/")) {
        discoveries++;
        throw new TypeError("fetch failed");
      }
      return fetcher(url, init);
    }) as typeof fetch;
    const vault = memoryVault({ expiresAt: NOW });
    const plugin = oauthRefresh({ ...discoveryBase, vault, fetch: failingDiscovery });
    const failed = context(vaultToken(NOW, NOW - 60), NOW + 1);
    assert.equal(await plugin.jwt!(failed.ctx), undefined);
    assert.deepEqual(failed.reports, ["network"]);
    assert.equal(vault.calls.acquire, 0, "no lease taken");
    assert.equal(discoveries, 2, "one discovery (its two metadata URLs), not a second one");
    assert.equal(state.calls, 0);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.leaseOwner, vault.entry.refreshError], ["r0", null, null]);
  });

  test("vault mode: the lease outlives a token call that takes the whole timeout plus every save retry", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout", "Date"], now: NOW * 1000 });
    const timeoutMs = 10_000;
    const vault = memoryVault({ expiresAt: NOW });
    // The slowest answer the timeout allows.
    const slowProvider = (async () => {
      t.mock.timers.tick(timeoutMs);
      return new Response(JSON.stringify({ access_token: "a1", refresh_token: "r1", expires_in: 60 }), { status: 200 });
    }) as typeof fetch;
    // Saves that each take just under a second (the per-statement allowance); the first four fail.
    const liveAtSave: boolean[] = [];
    const complete = vault.complete;
    vault.complete = async (ref, owner, tokens, now) => {
      t.mock.timers.tick(999);
      liveAtSave.push(vault.entry.leaseOwner === owner && vault.entry.leaseUntil !== null && Date.now() <= vault.entry.leaseUntil * 1000);
      if (liveAtSave.length < 5) throw new Error("database is locked");
      return complete(ref, owner, tokens, now);
    };
    const plugin = oauthRefresh({ ...base, vault, fetch: slowProvider, timeoutMs });
    let settled = false;
    const run = Promise.resolve(plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx)).finally(() => (settled = true));
    // Fire the save back-off timers as they come due (the mocked clock moves to each one).
    while (!settled) {
      await new Promise((resolve) => setImmediate(resolve));
      t.mock.timers.runAll();
    }
    assert.deepEqual(await run, { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } });
    assert.deepEqual(liveAtSave, [true, true, true, true, true], "the lease was still held at every save");
    assert.deepEqual([vault.entry.refreshToken, vault.entry.leaseOwner], ["r1", null]);
  });

  for (const [name, steal] of [
    ["taken by another instance", (entry: VaultEntry) => Object.assign(entry, { leaseOwner: "other-instance", leaseUntil: NOW + 1_000_000 })],
    ["expired", (entry: VaultEntry) => Object.assign(entry, { leaseUntil: Math.floor(Date.now() / 1000) - 1 })],
  ] as const) {
    test(`vault mode: a lease ${name} before the provider call: no call with the old refresh token`, async () => {
      const { state, fetcher } = fakeProvider();
      const vault = memoryVault({ expiresAt: NOW });
      const acquire = vault.acquire;
      let stolen = false;
      vault.acquire = async (...args) => {
        const got = await acquire(...args);
        if (got && !stolen) {
          stolen = true;
          steal(vault.entry);
        }
        return got;
      };
      // Not waiting for another instance's lease to end: this test only looks at whether we called.
      const plugin = oauthRefresh({ ...base, vault, fetch: fetcher, ...(name === "expired" ? {} : { waitMs: 0 }) });
      const { ctx, reports } = context(vaultToken(NOW, NOW - 60), NOW + 1);
      const outcome = Promise.resolve(plugin.jwt!(ctx));
      if (name === "expired") {
        // Our own lease ran out: not called under it; the next round takes a fresh lease and refreshes.
        assert.deepEqual(await outcome, { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } });
        assert.equal(vault.calls.acquire, 2);
        assert.deepEqual(state.presented, ["r0"]);
      } else {
        assert.equal(await outcome, undefined);
        assert.deepEqual(reports, ["timeout"]);
        assert.equal(state.calls, 0);
        assert.equal(vault.entry.leaseOwner, "other-instance", "the other instance's lease untouched");
      }
    });
  }

  test("vault mode: a lease lost during the provider call: nothing saved under it; the rotated tokens are saved only over the refresh token they replace, and the loss is logged", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const logger = recordingLog();
    // During the call the lease expires and another instance takes it (it has not called yet).
    const slowCall = (async (url: string | URL | Request, init?: RequestInit) => {
      Object.assign(vault.entry, { leaseOwner: "other-instance", leaseUntil: NOW + 1_000_000 });
      return fetcher(url, init);
    }) as typeof fetch;
    const plugin = oauthRefresh({ ...base, vault, fetch: slowCall, logger });
    assert.deepEqual(await plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx), { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } });
    assert.deepEqual([vault.calls.complete, vault.calls.adopt], [1, 1]);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.refreshCount], ["r1", 1], "saved: the other instance finds fresh tokens and does not call");
    assert.equal(vault.entry.leaseOwner, "other-instance", "its lease is left alone");
    assert.equal(logger.errors().length, 1);
    assert.match(logger.errors()[0]!, /lost the lease before saving the rotated tokens of oidc:u1/);
    assert.equal(state.calls, 1);
  });

  test("vault mode: a lease lost during the call to a sign-in that replaced the tokens: the sign-in wins, the drop is logged", async () => {
    const { fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const logger = recordingLog();
    const signInDuringCall = (async (url: string | URL | Request, init?: RequestInit) => {
      await vault.store({ provider: "oidc", providerAccountId: "u1" }, { accessToken: "a-new", refreshToken: "r-new", expiresAt: NOW + 3600 }, NOW + 1);
      return fetcher(url, init);
    }) as typeof fetch;
    const plugin = oauthRefresh({ ...base, vault, fetch: signInDuringCall, logger });
    assert.deepEqual(await plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx), { oauth: { p: "oidc", a: "u1", e: NOW + 3600, i: NOW + 1 } });
    assert.deepEqual([vault.entry.refreshToken, vault.entry.accessToken], ["r-new", "a-new"]);
    assert.equal(logger.errors().length, 2);
    assert.match(logger.errors()[1]!, /not saved: the account has newer tokens, was revoked, or signed in again/);
  });
});

describe("review round 4: the refresh lease's hold", () => {
  // Finding: the acquire statement writes the 10-minute hold before anything else; a vault error
  // on the next statement (the read under the lease, a connection reset or a busy database for one
  // statement) left that hold in place although no refresh token had been presented. The grant
  // then could not be refreshed by any instance for 10 minutes (before the hold: 22 s), for a blip.
  test("review round 4: a vault error before the provider call does not hold the grant for 10 minutes", async () => {
    const { state, fetcher } = rotatingProvider();
    const vault = memoryVault({ expiresAt: NOW });
    let wall = (NOW + 1) * 1000;
    const clock = () => wall;
    const a = oauthRefresh({ ...base, vault, fetch: fetcher, clock });
    const b = oauthRefresh({ ...base, vault, fetch: fetcher, clock });
    const read = vault.read;
    let reads = 0;
    vault.read = async (ref) => {
      if (++reads === 2) throw new Error("Connection terminated unexpectedly"); // the read under the lease
      return read(ref);
    };
    await assert.rejects(Promise.resolve(a.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx)), /Connection terminated/);
    assert.equal(state.calls, 0, "nothing was presented");
    // The vault works again; a minute later another instance refreshes the grant.
    wall = (NOW + 60) * 1000;
    const later = context(vaultToken(NOW, NOW - 60), NOW + 60);
    assert.deepEqual(await b.jwt!(later.ctx), { oauth: { p: "oidc", a: "u1", e: NOW + 120, i: NOW + 60 } }, `not refreshed (reported ${later.reports.join(", ")}; lease until ${vault.entry.leaseUntil})`);
    assert.deepEqual([state.presented, state.reused], [["r0"], 0]);
  });
});
