import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { claimsKit, oauthRefresh } from "@/lib/claims-kit";
import { type VaultEntry } from "@/lib/claims-kit/plugin";
import { singleFlight } from "@/lib/claims-kit/refresh/single-flight";
import { memoryVault } from "../vault-fake";
import { MIN_LIFETIME, processRefreshResponse, processRevocationResponse, type RefreshContext, type TokenEndpointResult } from "@/lib/claims-kit/refresh/token-endpoint";

const NOW = 1_800_000_000;
const response = (status: number, body: unknown): TokenEndpointResult => ({ kind: "response", status, body: typeof body === "string" ? body : JSON.stringify(body) });
const ISSUER = "https://idp.example";
const ctx: RefreshContext = { previousRefreshToken: "r1", now: NOW, issuer: ISSUER, clientId: "app", expectedSub: "user-1" };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** An id_token as a token endpoint returns it (its signature is not what the refresh step checks: TLS from the endpoint is). */
const idToken = (claims: Record<string, unknown>) => {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: ISSUER, aud: "app", sub: "user-1", iat: now, exp: now + 600, ...claims })}.c2ln`;
};

describe("processRefreshResponse", () => {
  test("a rotated token set", async () => {
    assert.deepEqual(await processRefreshResponse(response(200, { access_token: "a2", refresh_token: "r2", expires_in: 300, token_type: "Bearer" }), ctx), {
      ok: true,
      tokens: { accessToken: "a2", refreshToken: "r2", expiresAt: NOW + 300, rotated: true },
    });
  });

  test("no refresh token in the answer keeps the previous one; no expires_in assumes an hour; a valid id_token is kept", async () => {
    const id = idToken({});
    const out = await processRefreshResponse(response(200, { access_token: "a2", token_type: "Bearer", id_token: id }), ctx);
    assert.deepEqual(out, { ok: true, tokens: { accessToken: "a2", refreshToken: "r1", expiresAt: NOW + 3600, idToken: id, rotated: false } });
  });

  test("errors map to stable codes", async () => {
    const cases: Array<[TokenEndpointResult, string]> = [
      [response(400, { error: "invalid_grant" }), "invalid_grant"],
      [response(401, { error: "invalid_client" }), "client_error"],
      [{ kind: "response", status: 401, body: "", wwwAuthenticate: 'Basic realm="idp", error="invalid_client"' }, "client_error"],
      [response(400, { error: "unauthorized_client" }), "client_error"],
      [response(500, { error: "server_error" }), "server_error"],
      [response(503, "upstream down"), "server_error"],
      [response(429, { error: "slow_down" }), "rate_limited"],
      [response(200, "{not json"), "server_error"],
      [response(200, { token_type: "Bearer" }), "server_error"],
      [response(200, ["not", "an", "object"]), "server_error"],
      [response(200, { access_token: "a2", token_type: "mac" }), "server_error"],
      // GitHub answers a dead refresh token with HTTP 200 and an error body.
      [response(200, { error: "bad_refresh_token", error_description: "The refresh token passed is incorrect or expired." }), "invalid_grant"],
      [{ kind: "timeout" }, "timeout"],
      [{ kind: "network", message: "ECONNRESET" }, "network"],
    ];
    for (const [result, code] of cases) {
      const out = await processRefreshResponse(result, ctx);
      assert.equal(out.ok, false);
      assert.equal(!out.ok && out.code, code, JSON.stringify(result));
    }
  });

  test("an id_token returned on refresh must name the same issuer, audience and subject, and be unexpired (issue #13)", async () => {
    const identity: Array<[string, string]> = [[idToken({ iss: "https://evil.example" }), "issuer"], [idToken({ aud: "another-app" }), "audience"], [idToken({ sub: "user-2" }), "subject"]];
    const unusable: Array<[string, string]> = [[idToken({ exp: Math.floor(Date.now() / 1000) - 3600 }), "expired"], ["not.a.jwt", "garbage"]];
    // Not rotated: nothing of the answer is used, the same refresh token is tried again later.
    for (const [id, why] of [...identity, ...unusable]) {
      const out = await processRefreshResponse(response(200, { access_token: "a2", token_type: "Bearer", id_token: id }), ctx);
      assert.deepEqual(!out.ok && [out.code, out.consumed], ["invalid_id_token", undefined], why);
    }
    // Rotated (the presented token is consumed): an id_token about someone else ends the grant…
    for (const [id, why] of identity) {
      const out = await processRefreshResponse(response(200, { access_token: "a2", refresh_token: "r2", token_type: "Bearer", id_token: id }), ctx);
      assert.deepEqual(!out.ok && [out.code, out.consumed], ["invalid_id_token", true], why);
    }
    // …an unusable one leaves the new tokens usable (kept without it), with a warning.
    for (const [id, why] of unusable) {
      const out = await processRefreshResponse(response(200, { access_token: "a2", refresh_token: "r2", token_type: "Bearer", id_token: id }), ctx);
      assert.ok(out.ok && out.tokens.refreshToken === "r2" && out.tokens.idToken === undefined && /invalid_id_token/.test(out.warning ?? ""), why);
    }
    const unknownIssuer = await processRefreshResponse(response(200, { access_token: "a2", token_type: "Bearer", id_token: idToken({}) }), { ...ctx, issuer: undefined });
    assert.equal(!unknownIssuer.ok && unknownIssuer.code, "invalid_id_token", "nothing to check it against: not accepted");
  });
});

describe("processRefreshResponse: the error is the body's whenever it has one (issue #23, item 2)", () => {
  const answer = (status: number, body: unknown, headers: { wwwAuthenticate?: string; retryAfter?: string } = {}): TokenEndpointResult =>
    ({ kind: "response", status, body: typeof body === "string" ? body : JSON.stringify(body), ...headers });
  const cases: Array<[string, TokenEndpointResult, string]> = [
    // RFC 6749 5.2: Basic authentication answers 401 with a challenge naming the scheme only.
    ["401 invalid_client with a bare Basic challenge (LemonLDAP)", answer(401, { error: "invalid_client" }, { wwwAuthenticate: "Basic" }), "client_error"],
    ["401 invalid_client with a Basic realm challenge", answer(401, { error: "invalid_client", error_description: "bad secret" }, { wwwAuthenticate: 'Basic realm="idp"' }), "client_error"],
    ["the body's error wins over the challenge's", answer(401, { error: "unauthorized_client" }, { wwwAuthenticate: 'Bearer error="invalid_token"' }), "client_error"],
    ["the challenge's error when the body has none", answer(401, "", { wwwAuthenticate: 'Basic realm="idp", error="invalid_client"' }), "client_error"],
    ["401 with neither: client authentication failed (RFC 6749 5.2)", answer(401, "Unauthorized", { wwwAuthenticate: "Basic" }), "client_error"],
    ["400 invalid_request (LemonLDAP's unknown refresh token)", answer(400, { error: "invalid_request" }), "refresh_rejected"],
    ["400 with an error the kit does not know", answer(400, { error: "something_else" }), "refresh_rejected"],
    ["400 without an error code", answer(400, "Bad Request"), "refresh_rejected"],
    ["403 with an OAuth error", answer(403, { error: "access_denied" }), "refresh_rejected"],
    ["a transient error code in a 400 body", answer(400, { error: "temporarily_unavailable" }), "server_error"],
    ["a proxy's 403 page, no OAuth error: says nothing about the grant", answer(403, "<html>Forbidden</html>"), "server_error"],
    ["408 Request Timeout", answer(408, ""), "server_error"],
    ["503 with an OAuth error body", answer(503, { error: "temporarily_unavailable" }), "server_error"],
    ["invalid_grant with a challenge header", answer(400, { error: "invalid_grant" }, { wwwAuthenticate: "Basic" }), "invalid_grant"],
  ];
  for (const [why, result, code] of cases) {
    test(why, async () => {
      const out = await processRefreshResponse(result, ctx);
      assert.equal(!out.ok && out.code, code);
    });
  }

  test("Retry-After is read on a 503 as on a 429", async () => {
    const out = await processRefreshResponse(answer(503, { error: "temporarily_unavailable" }, { retryAfter: "120" }), ctx);
    assert.deepEqual(!out.ok && [out.code, out.retryAfter], ["server_error", 120]);
    const none = await processRefreshResponse(answer(503, ""), ctx);
    assert.deepEqual(!none.ok && [none.code, none.retryAfter], ["server_error", undefined]);
  });

  test("revocation: the body's error wins over a bare Basic challenge", async () => {
    assert.deepEqual(await processRevocationResponse(answer(401, { error: "invalid_client" }, { wwwAuthenticate: "Basic" })), { ok: false, kind: "refused", code: "client_error", detail: "the provider refused the client: invalid_client" });
  });
});

describe("processRefreshResponse: answers that miss the point (review: bad input)", () => {
  test("an expires_in of 0, negative or not a number keeps the new tokens with a short lifetime and a warning", async () => {
    for (const expires_in of [0, -5, "soon", "3600s", true]) {
      const out = await processRefreshResponse(response(200, { access_token: "a2", refresh_token: "r2", expires_in }), ctx);
      assert.ok(out.ok, String(expires_in));
      assert.equal(out.tokens.refreshToken, "r2", "the rotated refresh token is never thrown away");
      assert.equal(out.tokens.expiresAt, NOW + MIN_LIFETIME);
      assert.match(out.warning ?? "", /invalid expires_in/);
    }
    const numeric = await processRefreshResponse(response(200, { access_token: "a2", expires_in: "120" }), ctx);
    assert.ok(numeric.ok && numeric.tokens.expiresAt === NOW + 120 && numeric.warning === undefined);
  });

  test("a 429 is rate_limited with the provider's Retry-After (seconds or a date), 30 s without one", async () => {
    const seconds = await processRefreshResponse({ kind: "response", status: 429, body: "", retryAfter: "120" }, ctx);
    assert.deepEqual(!seconds.ok && [seconds.code, seconds.retryAfter], ["rate_limited", 120]);
    const date = await processRefreshResponse({ kind: "response", status: 429, body: "", retryAfter: new Date((NOW + 45) * 1000).toUTCString() }, ctx);
    assert.deepEqual(!date.ok && date.retryAfter, 45);
    const none = await processRefreshResponse({ kind: "response", status: 429, body: "" }, ctx);
    assert.deepEqual(!none.ok && none.retryAfter, 30);
  });

  test("after a 429 the provider is not called again before its Retry-After; the session and refresh token are kept", async () => {
    let calls = 0;
    const fetcher = (async () => {
      calls++;
      return calls === 1 ? new Response("", { status: 429, headers: { "retry-after": "100" } }) : new Response(JSON.stringify({ access_token: "a1", refresh_token: "r1", expires_in: 600 }), { status: 200 });
    }) as unknown as typeof fetch;
    let now = NOW * 1000;
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher });
    const kit = claimsKit({ plugins: [plugin], clock: () => now, logger: log });
    const account = { provider: "oidc", type: "oidc" as const, providerAccountId: "p1", access_token: "a0", refresh_token: "r0", expires_at: NOW + 30 };
    let token = (await kit.callbacks.jwt({ token: { sub: "u1" }, user: { id: "u1" }, trigger: "signIn", account }))!;
    now += 40_000;
    token = (await kit.callbacks.jwt({ token }))!;
    assert.equal((token._k as { e?: { oauth?: { code: string } } }).e?.oauth?.code, "rate_limited");
    assert.equal((token.oauth as { rt: string }).rt, "r0");
    now += 50_000;
    token = (await kit.callbacks.jwt({ token }))!;
    assert.equal(calls, 1, "not before Retry-After");
    now += 60_000;
    token = (await kit.callbacks.jwt({ token }))!;
    assert.equal(calls, 2);
    assert.equal((token.oauth as { rt: string }).rt, "r1");
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
  const state = { calls: 0, next: 1, failWith: null as null | number, clientError: false, live: "r0", presented: [] as string[] };
  const fetcher = (async (_url: string | URL | Request, init?: RequestInit) => {
    state.calls++;
    await new Promise((r) => setTimeout(r, 5));
    const presented = new URLSearchParams(String(init?.body)).get("refresh_token") ?? "";
    state.presented.push(presented);
    if (state.failWith) return new Response(JSON.stringify({ error: "server_error" }), { status: state.failWith });
    if (state.clientError) return new Response(JSON.stringify({ error: "invalid_client" }), { status: 401 });
    if (presented !== state.live) return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 });
    state.live = `r${state.next}`;
    return new Response(JSON.stringify({ access_token: `a${state.next++}`, refresh_token: state.live, expires_in: 60 }), { status: 200 });
  }) as typeof fetch;
  return { state, fetcher };
}

/** A logger that keeps what it is given, to check what gets logged (and that no token does). */
function recordingLog() {
  const lines: Array<{ level: "info" | "warn" | "error"; message: string }> = [];
  return {
    lines,
    errors: () => lines.filter((l) => l.level === "error").map((l) => l.message),
    info: (message: string) => void lines.push({ level: "info", message }),
    warn: (message: string) => void lines.push({ level: "warn", message }),
    error: (message: string) => void lines.push({ level: "error", message }),
  };
}

const log = { info() {}, warn() {}, error() {} };
const base = { provider: "oidc", tokenEndpoint: "https://idp.example/token", clientId: "app", clientSecret: "s", logger: log };

/** A jwt() context; `reports` collects what the plugin reported with ctx.report(). */
function context(token: Record<string, unknown>, now: number) {
  const reports: string[] = [];
  return { ctx: { token, userId: "u", now, log, trigger: undefined, report: (code: string) => void reports.push(code) }, reports };
}
const vaultToken = (e: number, i: number) => ({ sub: "u", oauth: { p: "oidc", a: "u1", e, i } });

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
  test("vault mode: rotated tokens that cannot be saved are served from memory and saved on a later request; the consumed refresh token is never sent again", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const logger = recordingLog();
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher, logger });
    vault.control.failSaves = Infinity;
    const { ctx } = context(vaultToken(NOW, NOW - 60), NOW + 1);
    const fresh = { oauth: { p: "oidc", a: "u1", e: NOW + 1 + 60, i: NOW + 1 } };
    assert.deepEqual(await plugin.jwt!(ctx), fresh);
    assert.equal(vault.entry.refreshToken, "r0", "not saved");
    assert.deepEqual(await plugin.accessToken(vaultToken(NOW, NOW - 60), NOW + 2), { accessToken: "a1", expiresAt: NOW + 61, refreshCount: 1 });
    // Another request with the old claim: served from memory, no second provider call.
    assert.deepEqual(await plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 2).ctx), fresh);
    // Once the unsaved tokens are due too, this process does not refresh from the vault's consumed token.
    const due = context(vaultToken(NOW, NOW - 60), NOW + 61);
    assert.equal(await plugin.jwt!(due.ctx), undefined);
    assert.deepEqual(due.reports, ["server_error"]);
    assert.deepEqual(state.presented, ["r0"]);
    // The database is back: the next request of the account saves them (its claim is not even due).
    vault.control.failSaves = 0;
    assert.equal(await plugin.jwt!(context({ sub: "u", ...fresh }, NOW + 3).ctx), undefined);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.accessToken, vault.entry.refreshCount, vault.entry.leaseOwner], ["r1", "a1", 1, null]);
    // And the next refresh presents the saved, live refresh token.
    assert.deepEqual(await plugin.jwt!(context({ sub: "u", ...fresh }, NOW + 61).ctx), { oauth: { p: "oidc", a: "u1", e: NOW + 61 + 60, i: NOW + 61 } });
    assert.deepEqual(state.presented, ["r0", "r1"]);
    for (const line of logger.lines) assert.doesNotMatch(line.message, /\b[ar][0-9]\b/, "no token in the logs");
  });

  test("vault mode: unsaved rotated tokens are saved in the background without another request", async () => {
    const { fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    const plugin = oauthRefresh({ ...base, vault, fetch: fetcher });
    vault.control.failSaves = 5; // every attempt under the lease fails; the first background one succeeds
    const saved = new Promise<void>((resolve) => (vault.control.onSaved = resolve));
    assert.deepEqual(await plugin.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx), { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } });
    assert.equal(vault.entry.refreshToken, "r0");
    await saved;
    assert.deepEqual([vault.entry.refreshToken, vault.entry.refreshCount, vault.entry.leaseOwner], ["r1", 1, null]);
  });
});

describe("oauthRefresh: the hold (issue #22)", () => {
  test("vault mode: while A holds rotated tokens it could not save, B neither presents the consumed token nor waits for A; the bound is the 10-minute hold", async () => {
    const { state, fetcher } = fakeProvider();
    const vault = memoryVault({ expiresAt: NOW });
    let wall = NOW * 1000;
    const wallClock = () => wall;
    const a = oauthRefresh({ ...base, vault, fetch: fetcher, clock: wallClock });
    const b = oauthRefresh({ ...base, vault, fetch: fetcher, clock: wallClock });
    vault.control.failSaves = Infinity;
    assert.deepEqual(await a.jwt!(context(vaultToken(NOW, NOW - 60), NOW + 1).ctx), { oauth: { p: "oidc", a: "u1", e: NOW + 61, i: NOW + 1 } });
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

describe("oauthRefresh: revokeUser (review item 12)", () => {
  /** Discovery with a revocation endpoint, and a revocation endpoint that answers `status`. */
  function revocationProvider(status: number, body: unknown = "") {
    const state = { revocations: [] as string[] };
    const fetcher = (async (url: string | URL | Request, init?: RequestInit) => {
      const href = String(url);
      if (href.endsWith("/.well-known/openid-configuration")) {
        return new Response(JSON.stringify({ issuer: "https://idp.example", token_endpoint: "https://idp.example/token", revocation_endpoint: "https://idp.example/revoke" }), { status: 200 });
      }
      if (href === "https://idp.example/revoke") {
        state.revocations.push(new URLSearchParams(String(init?.body)).get("token") ?? "");
        return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
      }
      return new Response("not found", { status: 404 });
    }) as typeof fetch;
    return { state, fetcher };
  }
  const discoveryBase = { ...base, tokenEndpoint: undefined, issuer: "https://idp.example" };

  test("a revocation the provider confirms forgets the tokens", async () => {
    const { state, fetcher } = revocationProvider(200);
    const vault = memoryVault({});
    const plugin = oauthRefresh({ ...discoveryBase, vault, fetch: fetcher });
    assert.deepEqual(await plugin.revokeUser("u"), { revoked: 1, failed: 0, unsupported: 0, accounts: [{ providerAccountId: "u1", outcome: "revoked" }] });
    assert.deepEqual(state.revocations, ["r0"]);
    assert.deepEqual([vault.entry.refreshToken, vault.entry.accessToken, vault.entry.refreshError], [null, null, "revoked"]);
  });

  test("a revocation the provider does not confirm keeps the tokens and reports the failure", async () => {
    const cases = [
      [503, "", "server_error", "HTTP 503"],
      [401, { error: "invalid_client" }, "client_error", "the provider refused the client: invalid_client"],
    ] as const;
    for (const [status, body, code, detail] of cases) {
      const { fetcher } = revocationProvider(status, body);
      const vault = memoryVault({});
      const plugin = oauthRefresh({ ...discoveryBase, vault, fetch: fetcher });
      assert.deepEqual(await plugin.revokeUser("u"), { revoked: 0, failed: 1, unsupported: 0, accounts: [{ providerAccountId: "u1", outcome: "failed", code, detail }] });
      assert.deepEqual([vault.entry.refreshToken, vault.entry.accessToken, vault.entry.refreshError], ["r0", "a0", null], "tokens kept: the grant is still live");
    }
  });

  test("a failed discovery is a failure, not a provider without revocation: the tokens are kept", async () => {
    const vault = memoryVault({});
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as typeof fetch;
    const plugin = oauthRefresh({ ...discoveryBase, vault, fetch: down });
    const result = await plugin.revokeUser("u");
    assert.deepEqual({ ...result, accounts: result.accounts.map((a) => ({ ...a, detail: undefined })) }, { revoked: 0, failed: 1, unsupported: 0, accounts: [{ providerAccountId: "u1", outcome: "failed", code: "network", detail: undefined }] });
    assert.equal(vault.entry.refreshToken, "r0");
  });

  test("a provider without a revocation endpoint: reported as unsupported, the tokens forgotten locally", async () => {
    const vault = memoryVault({});
    const plugin = oauthRefresh({ ...base, vault });
    assert.deepEqual(await plugin.revokeUser("u"), { revoked: 0, failed: 0, unsupported: 1, accounts: [{ providerAccountId: "u1", outcome: "unsupported", detail: "no issuer to discover a revocation endpoint from" }] });
    assert.deepEqual([vault.entry.refreshToken, vault.entry.refreshError], [null, "revoked"]);
  });

  test("processRevocationResponse maps answers to stable codes", async () => {
    assert.deepEqual(await processRevocationResponse(response(200, "")), { ok: true });
    assert.deepEqual(await processRevocationResponse(response(400, { error: "unsupported_token_type" })), { ok: false, kind: "refused", code: "unsupported", detail: "the provider cannot revoke refresh tokens (unsupported_token_type)" });
    assert.deepEqual(await processRevocationResponse(response(401, { error: "invalid_client" })), { ok: false, kind: "refused", code: "client_error", detail: "the provider refused the client: invalid_client" });
    assert.deepEqual(await processRevocationResponse(response(500, "oops")), { ok: false, kind: "failed", code: "server_error", detail: "HTTP 500" });
    assert.deepEqual(await processRevocationResponse({ kind: "timeout" }), { ok: false, kind: "failed", code: "timeout", detail: "no answer from the revocation endpoint" });
    assert.deepEqual(await processRevocationResponse({ kind: "network", message: "ECONNRESET" }), { ok: false, kind: "failed", code: "network", detail: "ECONNRESET" });
  });
});

describe("cookie mode with large provider tokens (review)", () => {
  test("a rotated 2 KB access token is kept: the consumed refresh token is never presented again", async () => {
    const state = { live: "r0", next: 1, presented: [] as string[] };
    const fetcher = (async (_url: unknown, init?: RequestInit) => {
      const presented = new URLSearchParams(String(init?.body)).get("refresh_token") ?? "";
      state.presented.push(presented);
      if (presented !== state.live) return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 });
      state.live = `r${state.next}`;
      // JWT access tokens with groups (Entra ID, Keycloak) are often this big.
      return new Response(JSON.stringify({ access_token: `${"A".repeat(2100)}${state.next++}`, refresh_token: state.live, expires_in: 60 }), { status: 200 });
    }) as typeof fetch;
    let now = NOW * 1000;
    const plugin = oauthRefresh({ provider: "oidc", mode: "cookie", tokenEndpoint: "https://idp.example/token", clientId: "c", clientSecret: "s", fetch: fetcher, graceSeconds: 0 });
    const kit = claimsKit({ plugins: [plugin], clock: () => now, logger: { info() {}, warn() {}, error() {} } });
    const account = { provider: "oidc", type: "oidc" as const, providerAccountId: "p1", access_token: "a0", refresh_token: "r0", expires_at: NOW + 30 };
    let token = (await kit.callbacks.jwt({ token: { sub: "u1" }, user: { id: "u1" }, trigger: "signIn", account }))!;
    for (let i = 0; i < 3; i++) {
      now += 40_000;
      token = (await kit.callbacks.jwt({ token }))!;
    }
    assert.deepEqual(state.presented, ["r0", "r1", "r2"]);
    assert.equal((token.oauth as { rt?: string }).rt, "r3");
  });
});

describe("RP-Initiated Logout (endSessionUrl)", () => {
  const metadata = (extra: Record<string, string>) =>
    (async () => new Response(JSON.stringify({ issuer: "https://idp.example", token_endpoint: "https://idp.example/token", ...extra }), { status: 200 })) as unknown as typeof fetch;

  test("the provider's end_session_endpoint with the id_token from the vault and the return address", async () => {
    const vault = memoryVault({ idToken: "id.token.value" });
    const plugin = oauthRefresh({ ...base, tokenEndpoint: undefined, issuer: "https://idp.example", vault, fetch: metadata({ end_session_endpoint: "https://idp.example/session/end" }) });
    const url = new URL((await plugin.endSessionUrl(vaultToken(NOW + 600, NOW), "http://localhost:3000/"))!);
    assert.equal(`${url.origin}${url.pathname}`, "https://idp.example/session/end");
    assert.equal(url.searchParams.get("id_token_hint"), "id.token.value");
    assert.equal(url.searchParams.get("post_logout_redirect_uri"), "http://localhost:3000/");
  });

  test("without an id_token the client identifies itself; without the endpoint there is nothing to do", async () => {
    const cookieMode = oauthRefresh({ ...base, mode: "cookie", tokenEndpoint: undefined, issuer: "https://idp.example", fetch: metadata({ end_session_endpoint: "https://idp.example/session/end" }) });
    const url = new URL((await cookieMode.endSessionUrl({ oauth: { at: "a", rt: "r", e: NOW + 600, i: NOW } }, "http://localhost:3000/"))!);
    assert.equal(url.searchParams.get("client_id"), "app");
    assert.equal(url.searchParams.get("id_token_hint"), null);
    const noEndpoint = oauthRefresh({ ...base, mode: "cookie", tokenEndpoint: undefined, issuer: "https://idp.example", fetch: metadata({}) });
    assert.equal(await noEndpoint.endSessionUrl({ oauth: { at: "a", e: NOW + 600, i: NOW } }, "http://localhost:3000/"), null);
  });
});

describe("client authentication at the token endpoint (oauth4webapi)", () => {
  /** Refresh once in cookie mode with `options` and return the request the provider saw. */
  async function seen(options: Record<string, unknown>) {
    let request: { headers: Headers; body: URLSearchParams } | undefined;
    const fetcher = (async (_url: string, init: RequestInit) => {
      request = { headers: new Headers(init.headers), body: new URLSearchParams(String(init.body)) };
      return new Response(JSON.stringify({ access_token: "a1", token_type: "Bearer", expires_in: 600 }), { status: 200, headers: { "content-type": "application/json" } });
    }) as unknown as typeof fetch;
    const plugin = oauthRefresh({ ...base, mode: "cookie", fetch: fetcher, ...options });
    const info = await plugin.jwt!(context({ sub: "u1", oauth: { at: "a0", rt: "r0", e: NOW - 10, i: NOW - 3600 } }, NOW).ctx);
    assert.ok(info, "refreshed");
    return request!;
  }

  test("client_secret_basic encodes id and secret as Auth.js does (encodeURIComponent, space as +) before base64", async () => {
    const { headers, body } = await seen({ clientId: "my app:1", clientSecret: "p@ss word/+" });
    const [user, pass] = Buffer.from(headers.get("authorization")!.replace(/^Basic /, ""), "base64").toString().split(":");
    assert.deepEqual([user, pass], ["my+app%3A1", "p%40ss+word%2F%2B"]);
    assert.equal(body.get("client_secret"), null);
    assert.deepEqual([body.get("grant_type"), body.get("refresh_token")], ["refresh_token", "r0"]);
  });

  test("client_secret_post, none, client_secret_jwt and private_key_jwt", async () => {
    const post = await seen({ clientAuth: "client_secret_post" });
    assert.deepEqual([post.body.get("client_id"), post.body.get("client_secret"), post.headers.get("authorization")], ["app", "s", null]);
    const none = await seen({ clientAuth: "none", clientSecret: undefined });
    assert.deepEqual([none.body.get("client_id"), none.body.get("client_secret"), none.headers.get("authorization")], ["app", null, null]);

    const assertionOf = (body: URLSearchParams, aud: unknown) => {
      assert.equal(body.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      const [header, payload] = body.get("client_assertion")!.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString()));
      assert.deepEqual([payload.iss, payload.sub, payload.aud], ["app", "app", aud]);
      return header as { alg: string; kid?: string };
    };
    assert.equal(assertionOf((await seen({ clientAuth: "client_secret_jwt" })).body, "https://idp.example").alg, "HS256");
    const { privateKey } = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const jwk = { ...(await crypto.subtle.exportKey("jwk", privateKey)), kid: "k1" };
    // Auth.js's audience for private_key_jwt (tests/unit/refresh/client-auth.test.ts compares the two).
    const header = assertionOf((await seen({ clientAuth: "private_key_jwt", clientSecret: undefined, clientPrivateKey: jwk })).body, ["https://idp.example", "https://idp.example/token"]);
    assert.deepEqual([header.alg, header.kid], ["ES256", "k1"]);
  });

  test("a missing key or secret for the method is refused at start-up, naming the option", () => {
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientAuth: "private_key_jwt", clientSecret: undefined }), /clientPrivateKey/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientAuth: "client_secret_jwt", clientSecret: undefined }), /clientSecret/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientAuth: "tls_client_auth" as never }), /clientAuth/);
  });
});

describe("provider objects (issue #13, provider profiles)", () => {
  test("Microsoft Entra ID multi-tenant: the template issuer from discovery, the tenant's own issuer from sign-in checks the refreshed id_token", async () => {
    const { default: MicrosoftEntraID } = await import("@auth/core/providers/microsoft-entra-id");
    const tenant = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;
    let refreshedIssuer = tenant("tenant-a");
    const urls: string[] = [];
    const fetcher = (async (url: string) => {
      urls.push(String(url));
      if (String(url).endsWith("/.well-known/openid-configuration")) {
        return Response.json({ issuer: tenant("{tenantid}"), token_endpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token", authorization_endpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize" });
      }
      return Response.json({ access_token: "a1", token_type: "Bearer", expires_in: 3600, refresh_token: "r1", id_token: idToken({ iss: refreshedIssuer }) });
    }) as unknown as typeof fetch;
    const plugin = oauthRefresh({ provider: MicrosoftEntraID({ clientId: "app", clientSecret: "s" }), mode: "cookie", keepIdToken: true, fetch: fetcher, logger: log });
    const signedIn = { sub: "u1", oauth: { at: "a0", rt: "r0", e: NOW - 10, i: NOW - 3600, it: idToken({ iss: tenant("tenant-a") }) } };
    const ok = await plugin.jwt!(context(signedIn, NOW).ctx);
    assert.equal((ok as { oauth: { at: string } }).oauth.at, "a1");
    assert.equal(urls[0], "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration", "discovered from Auth.js's default issuer");

    refreshedIssuer = tenant("tenant-b");
    const otherGrant = { ...signedIn, oauth: { ...signedIn.oauth, rt: "r0b" } };
    const refused = (await plugin.jwt!(context(otherGrant, NOW).ctx)) as { oauth: { s?: { c: string } } };
    assert.equal(refused.oauth.s?.c, "reauth_required", "another tenant's id_token with a rotated refresh token ends the grant: sign in again");
  });

  test("GitHub (OAuth 2): the token endpoint from the provider object, never discovered; client id and secret from AUTH_GITHUB_* of the env option", async () => {
    const { default: GitHub } = await import("@auth/core/providers/github");
    const env = { AUTH_GITHUB_ID: "gh-app", AUTH_GITHUB_SECRET: "gh-secret" };
    {
      const urls: string[] = [];
      const fetcher = (async (url: string, init: RequestInit) => {
        urls.push(`${String(url)} ${new URLSearchParams(String(init.body)).get("grant_type")}`);
        return Response.json({ access_token: "ghu_2", token_type: "bearer", expires_in: 28800, refresh_token: "ghr_2", refresh_token_expires_in: 15897600 });
      }) as unknown as typeof fetch;
      const plugin = oauthRefresh({ provider: GitHub({}), env, mode: "cookie", fetch: fetcher, logger: log });
      const out = await plugin.jwt!(context({ sub: "u1", oauth: { at: "ghu_1", rt: "ghr_1", e: NOW - 10, i: NOW - 3600 } }, NOW).ctx);
      assert.deepEqual([(out as { oauth: { at: string; rt: string } }).oauth.at, (out as { oauth: { rt: string } }).oauth.rt], ["ghu_2", "ghr_2"]);
      assert.deepEqual(urls, ["https://github.com/login/oauth/access_token refresh_token"]);
    }
  });
});
