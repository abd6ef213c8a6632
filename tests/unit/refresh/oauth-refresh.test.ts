// oauthRefresh() in both modes: options, one refresh among instances, terminal failures, unsaved
// rotated tokens.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh } from "@/lib/claims-kit";
import { memoryVault } from "../vault-fake";
import { base, context, fakeProvider, recordingLog, vaultToken } from "./support";
import { withTimers } from "../fixtures";

const NOW = 1_800_000_000;

describe("oauthRefresh", () => {
  test("options are checked at start-up, naming the option", () => {
    assert.throws(() => oauthRefresh({ ...base, provider: "" }), /oauthRefresh: option "provider"/);
    assert.throws(() => oauthRefresh({ ...base }), /oauthRefresh: option "vault" is required in "vault" mode/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", tokenEndpoint: undefined }), /option "issuer" or tokenEndpoint is required/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientSecret: undefined }), /option "clientSecret" is required/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", skewSeconds: -1 }), /option "skewSeconds"/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientErrorRetrySeconds: 1.5 }), /option "clientErrorRetrySeconds"/);
  });

  test("vault mode: two instances sharing a vault make one provider call between them", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW + 10 });
    const a = oauthRefresh({ ...base, vault, fetch: fetcher });
    const b = oauthRefresh({ ...base, vault, fetch: fetcher });
    const { ctx } = context(vaultToken(NOW + 10, NOW - 50), NOW + 5);
    const results = await Promise.all([...Array(10)].map((_, i) => (i % 2 ? a : b).jwt!(ctx)));
    assert.equal(state.calls, 1);
    for (const r of results) assert.deepEqual(r, { oauth: { p: "oidc", a: "u1", e: NOW + 5 + 60, i: NOW + 5 } });
    assert.equal(vault.entry.refreshToken, "r1");
    assert.equal(vault.entry.refreshCount, 1);
  });

  test("vault mode: a transient failure keeps the last good refresh token; the first request after the back-off recovers", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    const { ctx, reports } = context(vaultToken(NOW, NOW - 60), NOW + 1);
    state.failWith = 503;
    assert.equal(await plugin.jwt!(ctx), undefined, "data, not a throw; the claim is left as it is");
    assert.deepEqual(reports, ["server_error"]);
    assert.equal(vault.entry.refreshToken, "r0");
    assert.equal(vault.entry.refreshError, null, "transient: not recorded as terminal");
    assert.equal(vault.entry.leaseOwner, null, "lease released");
    assert.deepEqual([vault.entry.refreshFailures, vault.entry.refreshFailedWith, vault.entry.refreshRetryAt], [1, "server_error", NOW + 2], "one second of back-off");
    state.failWith = null;
    assert.equal(await plugin.jwt!(ctx), undefined, "within the back-off: no call");
    assert.equal(state.calls, 1);
    assert.equal((await plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 2).ctx))?.oauth?.e, NOW + 2 + 60);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.refreshFailures, vault.entry.refreshRetryAt], ["r1", 0, null]);
  });

  test("cookie mode: concurrent requests and late requests with the previous refresh token share one refresh", async () => {
    const { state, fetcher } = fakeProvider();
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher });
    const { ctx } = context({ oauth: { at: "a0", rt: "r0", e: NOW + 10, i: NOW - 50 } }, NOW + 5);
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

describe("oauthRefresh: terminal failures stop the claim (review item 5)", () => {
  test("vault mode: a terminal error stops the claim: one provider call, the code reported on every request, no vault read, not due", async () => {
    const { state, fetcher } = fakeProvider();
    state.live = "something-else";
    const vault = memoryVault({ expiresAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    const { ctx, reports } = context(vaultToken(NOW, NOW - 60), NOW + 1);
    const first = await plugin.jwt!(ctx);
    const stoppedClaim = { p: "oidc", a: "u1", e: NOW, i: NOW - 60, s: { c: "invalid_grant", t: NOW + 1 } };
    assert.deepEqual(first, { oauth: stoppedClaim });
    assert.deepEqual([vault.entry.refreshError, vault.entry.refreshErrorAt], ["invalid_grant", NOW + 1]);
    // A request still carrying the claim from before (another tab): the stored code, no second call.
    assert.deepEqual(await plugin.jwt!(ctx), { oauth: stoppedClaim });
    // The stopped claim: not due (the proxy leaves it alone), and jwt() only reports the code.
    const readsBefore = vault.calls.read;
    assert.equal(plugin.isDue({ oauth: stoppedClaim }, NOW + 100_000), false);
    const later = context({ oauth: stoppedClaim }, NOW + 100_000);
    assert.equal(await plugin.jwt!(later.ctx), undefined);
    assert.deepEqual(later.reports, ["invalid_grant"]);
    assert.equal(vault.calls.read, readsBefore, "no vault read for a stopped claim");
    assert.deepEqual(reports, ["invalid_grant", "invalid_grant"]);
    assert.equal(state.calls, 1);
  });

  test("cookie mode: a refused refresh token is not sent to the provider again", async () => {
    const { state, fetcher } = fakeProvider();
    state.live = "something-else";
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher });
    const { ctx, reports } = context({ oauth: { at: "a0", rt: "r0", e: NOW, i: NOW - 60 } }, NOW + 1);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await plugin.jwt!(ctx), { oauth: { at: "a0", rt: "r0", e: NOW, i: NOW - 60, s: { c: "invalid_grant", t: NOW + 1 } } });
    }
    assert.deepEqual(reports, ["invalid_grant", "invalid_grant", "invalid_grant"]);
    assert.equal(state.calls, 1);
    assert.equal(plugin.isDue({ oauth: { at: "a0", rt: "r0", e: NOW, i: NOW - 60, s: { c: "invalid_grant", t: NOW + 1 } } }, NOW + 100_000), false);
  });

  test("vault mode: a stored terminal error keeps its own code", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW, refreshError: "client_error", refreshErrorAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    const { ctx, reports } = context(vaultToken(NOW, NOW - 60), NOW + 1);
    assert.deepEqual(await plugin.jwt!(ctx), { oauth: { p: "oidc", a: "u1", e: NOW, i: NOW - 60, s: { c: "client_error", t: NOW } } });
    assert.deepEqual(reports, ["client_error"]);
    assert.equal(state.calls, 0);
  });

  test("vault mode: a client_error is retried after the back-off counted from refreshErrorAt; invalid_grant never is", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW, refreshError: "client_error", refreshErrorAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    const stoppedClaim = { p: "oidc", a: "u1", e: NOW, i: NOW - 60, s: { c: "client_error", t: NOW } };
    assert.deepEqual(await plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 299).ctx), { oauth: stoppedClaim });
    assert.equal(plugin.isDue({ oauth: stoppedClaim }, NOW + 299), false);
    assert.equal(plugin.isDue({ oauth: stoppedClaim }, NOW + 300), true);
    assert.equal(state.calls, 0, "not within the back-off");
    // The secret was fixed meanwhile: after the default 5 minutes the refresh runs and the claim recovers.
    const { ctx, reports } = context({ sub: "u", oauth: stoppedClaim }, NOW + 300);
    assert.deepEqual(await plugin.jwt!(ctx), { oauth: { p: "oidc", a: "u1", e: NOW + 300 + 60, i: NOW + 300 } });
    assert.deepEqual(reports, []);
    assert.equal(state.calls, 1);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.refreshError, vault.entry.refreshErrorAt], ["r1", null, null]);

    const revoked = memoryVault({ expiresAt: NOW, refreshError: "invalid_grant", refreshErrorAt: NOW });
    const other = oauthRefresh({ ...base, vault: revoked, fetch: fetcher });
    const long = context(vaultToken(NOW, NOW - 60), NOW + 1_000_000);
    assert.deepEqual(await other.jwt!(long.ctx), { oauth: { p: "oidc", a: "u1", e: NOW, i: NOW - 60, s: { c: "invalid_grant", t: NOW } } });
    assert.deepEqual(long.reports, ["invalid_grant"]);
    assert.equal(state.calls, 1, "invalid_grant is not retried");
  });

  test("vault mode: a client_error that persists is recorded again with a new time", async () => {
    const { state, fetcher } = fakeProvider();
    state.clientError = true;
    const vault = memoryVault({ expiresAt: NOW, refreshError: "client_error", refreshErrorAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher, clientErrorRetrySeconds: 60 });
    const { ctx, reports } = context(vaultToken(NOW, NOW - 60), NOW + 60);
    assert.deepEqual(await plugin.jwt!(ctx), { oauth: { p: "oidc", a: "u1", e: NOW, i: NOW - 60, s: { c: "client_error", t: NOW + 60 } } });
    assert.deepEqual(reports, ["client_error"]);
    assert.deepEqual([vault.entry.refreshError, vault.entry.refreshErrorAt, vault.entry.refreshToken], ["client_error", NOW + 60, "r0"]);
    assert.equal(state.calls, 1);
  });

  test("cookie mode: a client_error is retried after the back-off; the refused token is not sent again before it", async () => {
    const { state, fetcher } = fakeProvider();
    state.clientError = true;
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher });
    const claim = { at: "a0", rt: "r0", e: NOW, i: NOW - 60 };
    const stoppedClaim = { ...claim, s: { c: "client_error", t: NOW + 1 } };
    assert.deepEqual(await plugin.jwt!(context({ oauth: claim }, NOW + 1).ctx), { oauth: stoppedClaim });
    // Another tab still carrying the unstopped claim, within the back-off: the process remembers.
    const tab = context({ oauth: claim }, NOW + 2);
    assert.deepEqual(await plugin.jwt!(tab.ctx), { oauth: stoppedClaim });
    assert.deepEqual(tab.reports, ["client_error"]);
    assert.equal(state.calls, 1);
    state.clientError = false; // the deploy's secret was fixed
    assert.equal(plugin.isDue({ oauth: stoppedClaim }, NOW + 300), false);
    assert.equal(await plugin.jwt!(context({ oauth: stoppedClaim }, NOW + 300).ctx), undefined);
    assert.equal(state.calls, 1);
    assert.equal(plugin.isDue({ oauth: stoppedClaim }, NOW + 301), true);
    assert.deepEqual(await plugin.jwt!(context({ oauth: stoppedClaim }, NOW + 301).ctx), { oauth: { at: "a1", rt: "r1", e: NOW + 301 + 60, i: NOW + 301 } });
    assert.equal(state.calls, 2);
  });
});

describe("oauthRefresh: unsaved rotated tokens (review item 5b)", () => {
  // The save retries' waits (100 to 400 ms, about 1 s in all) and the background retries run on
  // mocked timers.
  test("vault mode: rotated tokens that cannot be saved are served from memory and saved on a later request; the consumed refresh token is never sent again", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const run = <T>(work: Promise<T> | T) => withTimers(t.mock.timers, work);
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const logger = recordingLog();
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher, logger });
    vault.control.failSaves = Infinity;
    const { ctx } = context(vaultToken(NOW, NOW - 60), NOW + 1);
    const fresh = { oauth: { p: "oidc", a: "u1", e: NOW + 1 + 60, i: NOW + 1 } };
    assert.deepEqual(await run(plugin.jwt!(ctx)), fresh);
    assert.equal(vault.entry.refreshToken, "r0", "not saved");
    assert.deepEqual(await run(plugin.accessToken(vaultToken(NOW, NOW - 60), NOW + 2)), { accessToken: "a1", expiresAt: NOW + 61, refreshCount: 1 });
    // Another request with the old claim: served from memory, no second provider call.
    assert.deepEqual(await run(plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 2).ctx)), fresh);
    // Once the unsaved tokens are due too, this process does not refresh from the vault's consumed token.
    const due = context(vaultToken(NOW, NOW - 60), NOW + 61);
    assert.equal(await run(plugin.jwt!(due.ctx)), undefined);
    assert.deepEqual(due.reports, ["server_error"]);
    assert.deepEqual(state.presented, ["r0"]);
    // The database is back: the next request of the account saves them (its claim is not even due).
    vault.control.failSaves = 0;
    assert.equal(await run(plugin.jwt!(context({ sub: "u", ...fresh }, NOW + 3).ctx)), undefined);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.accessToken, vault.entry.refreshCount, vault.entry.leaseOwner], ["r1", "a1", 1, null]);
    // And the next refresh presents the saved, live refresh token.
    assert.deepEqual(await run(plugin.jwt!(context({ sub: "u", ...fresh }, NOW + 61).ctx)), { oauth: { p: "oidc", a: "u1", e: NOW + 61 + 60, i: NOW + 61 } });
    assert.deepEqual(state.presented, ["r0", "r1"]);
    for (const line of logger.lines) assert.doesNotMatch(line.message, /\b[ar][0-9]\b/, "no token in the logs");
  });

  test("vault mode: unsaved rotated tokens are saved in the background without another request", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    vault.control.failSaves = 5; // every attempt under the lease fails; the first background one succeeds
    const saved = new Promise<void>((resolve) => (vault.control.onSaved = resolve));
    assert.deepEqual(await withTimers(t.mock.timers, plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx)), { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } });
    assert.equal(vault.entry.refreshToken, "r0");
    await withTimers(t.mock.timers, saved);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.refreshCount, vault.entry.leaseOwner], ["r1", 1, null]);
  });
});

