// The token endpoint's pure processing step (refresh/token-endpoint.ts): answers to stable codes,
// id_tokens on refresh, Retry-After.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { claimsKit, oauthRefresh } from "@/lib/claims-kit";
import { base, log } from "./support";
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
