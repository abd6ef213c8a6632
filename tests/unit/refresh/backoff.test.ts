// Issue #23, item 3: a failing grant costs the provider a bounded number of calls, whatever the
// request rate. A fake token endpoint, the memory vault and a fake clock (the kit's `now`, seconds).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh, type OAuthRefreshOptions } from "@/lib/claims-kit";
import { backoffStep, nextBackoff } from "@/lib/claims-kit/refresh/backoff";
import { memoryVault } from "../vault-fake";
import { base as baseOptions, context } from "./support";

const T0 = 1_800_000_000;
const log = { info() {}, warn() {}, error() {} };

type Mode = "ok" | "500" | "503" | "429" | "timeout" | "drop" | "invalid_client" | "invalid_request";

/** A token endpoint that answers as `mode` says; rotates on success; counts calls. */
function endpoint() {
  const state = { mode: "ok" as Mode, retryAfter: undefined as string | undefined, calls: 0, callTimes: [] as number[], live: "r0", next: 1, now: T0 };
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
  const fetcher = (async (_url: string | URL | Request, init?: RequestInit) => {
    state.calls++;
    state.callTimes.push(state.now);
    const presented = new URLSearchParams(String(init?.body)).get("refresh_token");
    switch (state.mode) {
      case "500":
        return json(500, { error: "server_error" });
      case "503":
        return json(503, { error: "temporarily_unavailable" }, state.retryAfter ? { "retry-after": state.retryAfter } : {});
      case "429":
        return json(429, { error: "slow_down" }, state.retryAfter ? { "retry-after": state.retryAfter } : {});
      case "invalid_client":
        return json(401, { error: "invalid_client" }, { "www-authenticate": "Basic" });
      case "invalid_request":
        return json(400, { error: "invalid_request" });
      case "drop":
        throw new TypeError("fetch failed");
      case "timeout":
        // No answer until the client gives up (a ref'd timer: AbortSignal.timeout's alone keeps no loop alive).
        return new Promise<Response>((_resolve, reject) => {
          const alive = setTimeout(() => reject(new Error("the client never gave up")), 10_000);
          init?.signal?.addEventListener("abort", () => {
            clearTimeout(alive);
            reject(init.signal!.reason);
          });
        });
      case "ok":
        if (presented !== state.live) return json(400, { error: "invalid_grant" });
        state.live = `r${state.next}`;
        return json(200, { access_token: `a${state.next++}`, refresh_token: state.live, token_type: "Bearer", expires_in: 3600 });
    }
  }) as typeof fetch;
  return { state, fetcher };
}

const base = (fetcher: typeof fetch, extra: Partial<OAuthRefreshOptions> = {}): OAuthRefreshOptions => ({
  provider: "oidc", tokenEndpoint: "https://idp.example/token", clientId: "app", clientSecret: "s", logger: log, fetch: fetcher, timeoutMs: 50, ...extra,
});

/** One jwt() request: what it returned and what it reported. */
async function request(plugin: ReturnType<typeof oauthRefresh>, token: Record<string, unknown>, now: number) {
  const reports: string[] = [];
  const patch = await plugin.jwt!({ token, userId: "u", now, log, trigger: undefined, report: (code) => void reports.push(code) });
  return { patch: patch as { oauth?: Record<string, unknown> } | undefined, reports };
}

/**
 * Readers of one grant: every virtual second `readers` concurrent requests, spread over the given
 * instances, from `from` to `to` (exclusive). The outage is on while `down(t)`. Returns the time of
 * the first successful refresh after the outage, and every code reported.
 */
async function readAlong(opts: { instances: ReturnType<typeof oauthRefresh>[]; ep: ReturnType<typeof endpoint>; token: () => Record<string, unknown>; onPatch?: (p: Record<string, unknown>) => void; readers: number; from: number; to: number; down: (t: number) => Mode | null }) {
  const codes = new Set<string>();
  let recoveredAt: number | null = null;
  for (let t = opts.from; t < opts.to && recoveredAt === null; t++) {
    opts.ep.state.now = t;
    const mode = opts.down(t);
    opts.ep.state.mode = mode ?? "ok";
    const before = opts.ep.state.next;
    const results = await Promise.all(Array.from({ length: opts.readers }, (_, i) => request(opts.instances[i % opts.instances.length]!, opts.token(), t)));
    for (const r of results) {
      for (const c of r.reports) codes.add(c);
      if (r.patch?.oauth) opts.onPatch?.(r.patch.oauth);
    }
    if (mode === null && opts.ep.state.next > before) recoveredAt = t;
  }
  return { codes, recoveredAt };
}

describe("the back-off arithmetic", () => {
  const policy = (random: number) => ({ initialSeconds: 1, maxSeconds: 300, random: () => random });

  test("steps double from 1 s to 300 s; jitter only shortens a step, by up to a quarter; at least a second", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50].map((n) => backoffStep(n, policy(0))), [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    let b = undefined as ReturnType<typeof nextBackoff> | undefined;
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      b = nextBackoff(b, "server_error", T0, undefined, policy(0.999));
      waits.push(b.r - T0);
    }
    assert.deepEqual(waits, [1, 2, 4, 7, 13, 25, 49, 97, 193, 226]);
    assert.deepEqual(nextBackoff(undefined, "timeout", T0, undefined, policy(0.5)), { n: 1, r: T0 + 1, c: "timeout" });
    assert.deepEqual(nextBackoff({ n: 4, r: T0, c: "timeout" }, "network", T0, undefined, policy(0.5)), { n: 5, r: T0 + 14, c: "network" });
  });

  test("never before the provider's Retry-After", () => {
    assert.deepEqual(nextBackoff(undefined, "rate_limited", T0, 120, policy(0)), { n: 1, r: T0 + 120, c: "rate_limited" });
    assert.deepEqual(nextBackoff({ n: 9, r: T0, c: "server_error" }, "server_error", T0, 5, policy(0)), { n: 10, r: T0 + 300, c: "server_error" });
  });

  test("the options are checked at start-up, naming the option", () => {
    const { fetcher } = endpoint();
    assert.throws(() => oauthRefresh(base(fetcher, { mode: "cookie", backoff: { initialSeconds: 0 } })), /option "backoff.initialSeconds"/);
    assert.throws(() => oauthRefresh(base(fetcher, { mode: "cookie", backoff: { initialSeconds: 10, maxSeconds: 5 } })), /option "backoff.maxSeconds"/);
    assert.throws(() => oauthRefresh(base(fetcher, { mode: "cookie", backoff: { random: 3 as unknown as () => number } })), /option "backoff.random"/);
  });
});

describe("vault mode: a sustained failure costs a bounded number of calls (two instances, 50 concurrent readers)", () => {
  // With no jitter the attempts fall at 0, 1, 3, 7, 15, 31 s (the 7th at 63 s); with the most
  // jitter at 0, 1, 3, 7, 14, 27, 52 s (the 8th at 101 s).
  for (const [random, calls, recovered, step] of [[0, 6, 63, 32], [0.999, 7, 101, 64]] as const) {
    // Every kind without jitter; the most jitter once (the schedule does not depend on the kind).
    for (const mode of random === 0 ? (["500", "timeout", "drop", "503"] as const) : (["500"] as const)) {
      test(`a 60 s outage answering ${mode}, jitter ${random}: ${calls} calls, recovered at ${recovered} s (≤ the ${step} s step after the outage)`, async () => {
        const ep = endpoint();
        const vault = memoryVault({ expiresAt: T0 - 1, refreshedAt: T0 - 3601 }, T0);
        const instances = [0, 1].map(() => oauthRefresh(base(ep.fetcher, { vault, backoff: { random: () => random } })));
        const token = { sub: "u", oauth: { p: "oidc", a: "u1", e: T0 - 1, i: T0 - 3601 } };
        const { codes, recoveredAt } = await readAlong({ instances, ep, token: () => token, readers: 50, from: T0, to: T0 + 200, down: (t) => (t < T0 + 60 ? mode : null) });
        assert.equal(ep.state.callTimes.filter((t) => t < T0 + 60).length, calls, `calls at ${ep.state.callTimes.map((t) => t - T0).join(", ")}`);
        assert.equal(recoveredAt! - T0, recovered);
        assert.ok(recoveredAt! - (T0 + 60) <= step);
        assert.deepEqual([...codes], [{ "500": "server_error", timeout: "timeout", drop: "network", "503": "server_error" }[mode]]);
        assert.deepEqual([vault.entry.refreshToken, vault.entry.refreshFailures, vault.entry.refreshRetryAt, vault.entry.leaseOwner], ["r1", 0, null, null], "recovered: the back-off is cleared");
      });
    }
  }

  test("while backing off, requests are served the current access token while it is valid, then the recorded error; no provider call either way", async () => {
    const ep = endpoint();
    // Due 60 s before expiry (the skew): the refresh fails while the token still has 30 s.
    const vault = memoryVault({ accessToken: "a0", expiresAt: T0 + 30, refreshedAt: T0 - 3570 }, T0);
    const plugin = oauthRefresh(base(ep.fetcher, { vault, backoff: { random: () => 0 } }));
    const token = { sub: "u", oauth: { p: "oidc", a: "u1", e: T0 + 30, i: T0 - 3570 } };
    ep.state.mode = "500";
    const first = await request(plugin, token, T0);
    assert.deepEqual([first.patch, first.reports], [undefined, ["server_error"]], "the claim unchanged (no cookie write), the failure reported");
    assert.equal((await plugin.accessToken(token, T0))?.accessToken, "a0", "the current access token, still valid");
    assert.equal(ep.state.calls, 1);
    // Backing off: served from the vault without a call.
    ep.state.now = T0;
    const during = await request(plugin, token, T0);
    assert.deepEqual([during.patch, during.reports], [undefined, ["server_error"]]);
    assert.equal((await plugin.accessToken(token, T0))?.accessToken, "a0");
    assert.equal(ep.state.calls, 1);
    // After expiry, still backing off (the 5th attempt's step): the recorded error, no token, no call.
    Object.assign(vault.entry, { refreshFailures: 5, refreshFailedWith: "timeout", refreshRetryAt: T0 + 100 });
    const expired = await request(plugin, token, T0 + 40);
    assert.deepEqual([expired.patch, expired.reports], [undefined, ["timeout"]]);
    assert.equal(await plugin.accessToken(token, T0 + 40), null);
    assert.equal(ep.state.calls, 1);
    // The first request after the back-off refreshes.
    ep.state.mode = "ok";
    const after = await request(plugin, token, T0 + 100);
    assert.deepEqual([after.patch?.oauth?.e, after.reports], [T0 + 100 + 3600, []]);
    assert.equal(ep.state.calls, 2);
  });

  test("Retry-After (429 or 503) holds every instance off until it has passed", async () => {
    for (const mode of ["429", "503"] as const) {
      const ep = endpoint();
      ep.state.retryAfter = "120";
      const vault = memoryVault({ expiresAt: T0 - 1, refreshedAt: T0 - 3601 }, T0);
      const instances = [0, 1].map(() => oauthRefresh(base(ep.fetcher, { vault, backoff: { random: () => 0 } })));
      const token = { sub: "u", oauth: { p: "oidc", a: "u1", e: T0 - 1, i: T0 - 3601 } };
      const { recoveredAt } = await readAlong({ instances, ep, token: () => token, readers: 10, from: T0, to: T0 + 200, down: (t) => (t < T0 + 1 ? mode : null) });
      assert.deepEqual([ep.state.calls, recoveredAt! - T0], [2, 120], mode);
    }
  });

  test("invalid_client (401, bare Basic challenge) costs one call, then waits clientErrorRetrySeconds", async () => {
    const ep = endpoint();
    const vault = memoryVault({ expiresAt: T0 - 1, refreshedAt: T0 - 3601 }, T0);
    const instances = [0, 1].map(() => oauthRefresh(base(ep.fetcher, { vault })));
    let token: Record<string, unknown> = { sub: "u", oauth: { p: "oidc", a: "u1", e: T0 - 1, i: T0 - 3601 } };
    const { codes, recoveredAt } = await readAlong({ instances, ep, token: () => token, onPatch: (oauth) => (token = { ...token, oauth }), readers: 50, from: T0, to: T0 + 400, down: (t) => (t < T0 + 60 ? "invalid_client" : null) });
    assert.deepEqual([ep.state.calls, recoveredAt! - T0, [...codes]], [2, 300, ["client_error"]]);
  });
});

describe("refresh_rejected: terminal after one confirming attempt (issue #23 item 3)", () => {
  // The confirming attempt is the next attempt at the provider for that grant, made once the
  // back-off after the first rejection has passed (by any instance). Rejected again: the refresh
  // token is treated as refused (invalid_grant, sign in again). Anything else in between (a
  // success, a transient failure) means the two rejections were not consecutive.
  test("400 invalid_request twice in a row: refresh_rejected, then invalid_grant; no third call", async () => {
    const ep = endpoint();
    ep.state.mode = "invalid_request";
    const vault = memoryVault({ expiresAt: T0 - 1, refreshedAt: T0 - 3601 }, T0);
    const plugin = oauthRefresh(base(ep.fetcher, { vault, backoff: { random: () => 0 } }));
    let token: Record<string, unknown> = { sub: "u", oauth: { p: "oidc", a: "u1", e: T0 - 1, i: T0 - 3601 } };
    const first = await request(plugin, token, T0);
    assert.deepEqual([first.patch, first.reports, vault.entry.refreshFailedWith, vault.entry.refreshError], [undefined, ["refresh_rejected"], "refresh_rejected", null], "not terminal yet");
    assert.deepEqual((await request(plugin, token, T0)).reports, ["refresh_rejected"], "backing off: no call");
    assert.equal(ep.state.calls, 1);
    const confirm = await request(plugin, token, T0 + 1);
    assert.deepEqual([confirm.reports, (confirm.patch?.oauth as { s?: unknown }).s], [["invalid_grant"], { c: "invalid_grant", t: T0 + 1 }]);
    token = { ...token, oauth: confirm.patch!.oauth };
    assert.deepEqual([vault.entry.refreshError, vault.entry.refreshFailures], ["invalid_grant", 0]);
    for (const t of [T0 + 2, T0 + 1000]) assert.deepEqual((await request(plugin, token, t)).reports, ["invalid_grant"]);
    assert.equal(plugin.isDue(token, T0 + 100_000), false);
    assert.equal(ep.state.calls, 2);
  });

  test("a rejection, then a success on the confirming attempt: refreshing goes on", async () => {
    const ep = endpoint();
    const vault = memoryVault({ expiresAt: T0 - 1, refreshedAt: T0 - 3601 }, T0);
    const plugin = oauthRefresh(base(ep.fetcher, { vault, backoff: { random: () => 0 } }));
    const token = { sub: "u", oauth: { p: "oidc", a: "u1", e: T0 - 1, i: T0 - 3601 } };
    ep.state.mode = "invalid_request";
    await request(plugin, token, T0);
    ep.state.mode = "ok";
    const after = await request(plugin, token, T0 + 1);
    assert.deepEqual([after.reports, after.patch?.oauth?.e, vault.entry.refreshError], [[], T0 + 1 + 3600, null]);
  });

  test("rejected, then a transient failure, then rejected: not consecutive, not terminal", async () => {
    const ep = endpoint();
    const vault = memoryVault({ expiresAt: T0 - 1, refreshedAt: T0 - 3601 }, T0);
    const plugin = oauthRefresh(base(ep.fetcher, { vault, backoff: { random: () => 0 } }));
    const token = { sub: "u", oauth: { p: "oidc", a: "u1", e: T0 - 1, i: T0 - 3601 } };
    const codes: string[] = [];
    for (const [t, mode] of [[T0, "invalid_request"], [T0 + 1, "500"], [T0 + 3, "invalid_request"]] as const) {
      ep.state.mode = mode;
      codes.push(...(await request(plugin, token, t)).reports);
    }
    assert.deepEqual(codes, ["refresh_rejected", "server_error", "refresh_rejected"]);
    assert.deepEqual([vault.entry.refreshError, vault.entry.refreshFailures, vault.entry.refreshRetryAt], [null, 3, T0 + 3 + 4]);
  });
});

describe("cookie mode: the back-off rides in the claim (and in the process for older cookies)", () => {
  for (const mode of ["500", "timeout", "drop"] as const) {
    test(`a 60 s outage answering ${mode}: 6 calls for 50 concurrent readers, recovered on the first attempt after it`, async () => {
      const ep = endpoint();
      const plugin = oauthRefresh(base(ep.fetcher, { mode: "cookie", backoff: { random: () => 0 } }));
      // Every reader carries the cookie from before the outage: the process remembers the back-off.
      const stale = { sub: "u", oauth: { at: "a0", rt: "r0", e: T0 - 1, i: T0 - 3601 } };
      const { recoveredAt } = await readAlong({ instances: [plugin], ep, token: () => stale, readers: 50, from: T0, to: T0 + 200, down: (t) => (t < T0 + 60 ? mode : null) });
      assert.deepEqual([ep.state.callTimes.filter((t) => t < T0 + 60).length, recoveredAt! - T0], [6, 63]);
    });
  }

  test("another process sees the back-off in the cookie; isDue() is false until it ends", async () => {
    const ep = endpoint();
    ep.state.mode = "500";
    const a = oauthRefresh(base(ep.fetcher, { mode: "cookie", backoff: { random: () => 0 } }));
    const b = oauthRefresh(base(ep.fetcher, { mode: "cookie", backoff: { random: () => 0 } }));
    const token = { sub: "u", oauth: { at: "a0", rt: "r0", e: T0 - 1, i: T0 - 3601 } };
    const first = await request(a, token, T0);
    const claim = first.patch!.oauth!;
    assert.deepEqual(claim.b, { n: 1, r: T0 + 1, c: "server_error" });
    assert.deepEqual(first.reports, ["server_error"]);
    const later = { ...token, oauth: claim };
    assert.deepEqual(await request(b, later, T0), { patch: undefined, reports: ["server_error"] }, "no call, no cookie rewrite");
    assert.equal(b.isDue(later, T0), false);
    assert.equal(b.isDue(later, T0 + 1), true);
    assert.equal(ep.state.calls, 1);
    ep.state.mode = "ok";
    const recovered = await request(b, later, T0 + 1);
    assert.deepEqual([recovered.reports, recovered.patch?.oauth?.b, recovered.patch?.oauth?.rt], [[], undefined, "r1"]);
  });

  test("a valid access token is served while backing off (the claim keeps it), the error after it expires", async () => {
    const ep = endpoint();
    ep.state.mode = "500";
    const plugin = oauthRefresh(base(ep.fetcher, { mode: "cookie", backoff: { random: () => 0 } }));
    const token = { sub: "u", oauth: { at: "a0", rt: "r0", e: T0 + 30, i: T0 - 3570 } };
    const first = await request(plugin, token, T0);
    assert.deepEqual([first.patch?.oauth?.at, first.patch?.oauth?.b, first.reports], ["a0", { n: 1, r: T0 + 1, c: "server_error" }, ["server_error"]]);
    assert.equal((await plugin.accessToken({ ...token, oauth: first.patch!.oauth }, T0))?.accessToken, "a0");
    assert.equal(await plugin.accessToken({ ...token, oauth: first.patch!.oauth }, T0 + 30), null);
  });

  test("400 invalid_request twice in a row ends in invalid_grant", async () => {
    const ep = endpoint();
    ep.state.mode = "invalid_request";
    const plugin = oauthRefresh(base(ep.fetcher, { mode: "cookie", backoff: { random: () => 0 } }));
    const token = { sub: "u", oauth: { at: "a0", rt: "r0", e: T0 - 1, i: T0 - 3601 } };
    const first = await request(plugin, token, T0);
    assert.deepEqual([first.reports, first.patch?.oauth?.b], [["refresh_rejected"], { n: 1, r: T0 + 1, c: "refresh_rejected" }]);
    const second = await request(plugin, { ...token, oauth: first.patch!.oauth }, T0 + 1);
    assert.deepEqual([second.reports, second.patch?.oauth?.s, second.patch?.oauth?.b], [["invalid_grant"], { c: "invalid_grant", t: T0 + 1 }, undefined]);
    assert.equal(ep.state.calls, 2);
  });
});

describe("review round 4: cookie-mode back-off against older cookie copies (held in one process)", () => {
  const NOW = T0;

  test("review round 4: replaying the cookie from before the failures, or one with an earlier step, neither resets the back-off nor calls the provider early", async () => {
    let calls = 0;
    const failing = (async () => {
      calls++;
      return new Response(JSON.stringify({ error: "server_error" }), { status: 500 });
    }) as typeof fetch;
    const plugin = oauthRefresh({ ...baseOptions, mode: "cookie", fetch: failing, backoff: { initialSeconds: 1, maxSeconds: 300, random: () => 0 } });
    const original = { sub: "u", oauth: { at: "a0", rt: "r0", e: NOW, i: NOW - 60 } };
    const copies: Array<Record<string, unknown>> = [original];
    let latest: Record<string, unknown> = original;
    // Three failed attempts, each as soon as the back-off allows: steps of 1, 2 and 4 s.
    for (const t of [NOW + 1, NOW + 2, NOW + 4]) {
      const patch = (await plugin.jwt!(context(latest, t).ctx)) as { oauth: Record<string, unknown> } | undefined;
      if (patch) latest = { ...latest, ...patch };
      copies.push(latest);
    }
    assert.equal(calls, 3);
    assert.deepEqual((latest.oauth as { b: unknown }).b, { n: 3, r: NOW + 8, c: "server_error" });
    // Every older copy, replayed before the third step ends: no call.
    for (const copy of copies) await plugin.jwt!(context(copy, NOW + 7).ctx);
    assert.equal(calls, 3, "an older cookie copy made the kit call the provider inside the back-off");
    // At the end of the step, one call, whichever copy comes first; and the next step is the fourth.
    await plugin.jwt!(context(original, NOW + 8).ctx);
    await plugin.jwt!(context(copies[1]!, NOW + 8).ctx);
    assert.equal(calls, 4);
  });
});
