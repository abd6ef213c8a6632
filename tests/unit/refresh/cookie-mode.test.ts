// Security review round 4 (attack): the refresh lease's 10-minute hold (issue #22) and the
// back-off. A fake token endpoint with rotation and reuse detection, the memory vault shared by
// two "instances", and a wall clock the test moves.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh } from "@/lib/claims-kit";
import { processRefreshResponse } from "@/lib/claims-kit/refresh/token-endpoint";
import { memoryVault } from "../vault-fake";

const NOW = 1_800_000_000;
const log = { info() {}, warn() {}, error() {} };
const base = { provider: "oidc", tokenEndpoint: "https://idp.example/token", clientId: "app", clientSecret: "s", logger: log };

/** A token endpoint that rotates, and revokes the grant when a consumed refresh token comes back. */
function rotatingProvider() {
  const state = { calls: 0, next: 1, live: "r0", presented: [] as string[], reused: 0 };
  const fetcher = (async (_url: string | URL | Request, init?: RequestInit) => {
    state.calls++;
    const presented = new URLSearchParams(String(init?.body)).get("refresh_token") ?? "";
    state.presented.push(presented);
    if (presented !== state.live) {
      state.reused++;
      state.live = "revoked";
      return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 });
    }
    state.live = `r${state.next}`;
    return new Response(JSON.stringify({ access_token: `a${state.next++}`, refresh_token: state.live, expires_in: 60 }), { status: 200 });
  }) as typeof fetch;
  return { state, fetcher };
}

function context(token: Record<string, unknown>, now: number) {
  const reports: string[] = [];
  return { ctx: { token, userId: "u", now, log, trigger: undefined, report: (code: string) => void reports.push(code) }, reports };
}
const vaultToken = (e: number, i: number) => ({ sub: "u", oauth: { p: "oidc", a: "u1", e, i } });

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

describe("review round 4: Retry-After values (held)", () => {
  test("review round 4: huge, negative, past, fractional and garbage Retry-After values stay within 1 s to 1 hour", async () => {
    const at = (header: string) =>
      processRefreshResponse({ kind: "response", status: 429, body: "{}", retryAfter: header }, { previousRefreshToken: "r0", now: NOW }).then((o) => (!o.ok ? o.retryAfter : undefined));
    const cases: Array<[string, number]> = [
      ["99999999999999999999999", 3600], ["-5", 1], ["0", 1], ["1.5", 1], ["1e9", 30], ["soon", 30], ["", 30],
      [new Date((NOW - 3600) * 1000).toUTCString(), 1], [new Date((NOW + 10 * 86400) * 1000).toUTCString(), 3600], [new Date((NOW + 90) * 1000).toUTCString(), 90],
    ];
    for (const [header, seconds] of cases) assert.equal(await at(header), seconds, JSON.stringify(header));
  });
});

describe("review round 4: cookie-mode back-off against older cookie copies (held in one process)", () => {
  test("review round 4: replaying the cookie from before the failures, or one with an earlier step, neither resets the back-off nor calls the provider early", async () => {
    let calls = 0;
    const failing = (async () => {
      calls++;
      return new Response(JSON.stringify({ error: "server_error" }), { status: 500 });
    }) as typeof fetch;
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: failing, backoff: { initialSeconds: 1, maxSeconds: 300, random: () => 0 } });
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

describe("review round 4: cookie mode, a cookie copy older than the grace", () => {
  // Finding (design, left as todo): in cookie mode a rotated refresh token is remembered for
  // `graceSeconds` (30 s) only. A response that lands after a newer one (a slow session read that
  // started before the refresh) leaves the browser holding the cookie with the consumed refresh
  // token; its first request more than 30 s later presents that token, and a provider with reuse
  // detection revokes the whole grant: the newest cookie's tokens die with it and the user signs in
  // again. Needs: each process remembers the refresh tokens it rotated (digest -> successor's
  // digest, for as long as the successor may be live, bounded like the other maps) and never
  // presents one again; a copy carrying one gets the end of the chain (as the grace does), or, when
  // that is gone from memory, its own access token while valid and then a transient error, never a
  // provider call.
  test("review round 4: a cookie copy carrying a refresh token this process rotated is never presented again, even after the grace", { todo: "cookie mode remembers rotated refresh tokens for graceSeconds only (see the comment above for the redesign)" }, async () => {
    const { state, fetcher } = rotatingProvider();
    const stale = { sub: "u", oauth: { at: "a0", rt: "r0", e: NOW, i: NOW - 60 } };
    let wall = (NOW + 1) * 1000;
    const ahead = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher, clock: () => wall });
    await ahead.jwt!(context(stale, NOW + 1).ctx); // r0 -> r1
    wall = (NOW + 45) * 1000;
    await ahead.jwt!(context(stale, NOW + 45).ctx); // the late copy, 44 s later
    assert.deepEqual([state.presented, state.reused], [["r0"], 0], "the consumed refresh token was presented again: the provider revoked the grant");
  });
});
