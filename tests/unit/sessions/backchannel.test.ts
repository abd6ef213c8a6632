// Security review (attack): the back-channel logout endpoint is unauthenticated until the token is
// verified, so what it does before that must be bounded: the body it reads, and the provider
// discovery it waits for.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair } from "jose";
import { backchannelLogout, BACKCHANNEL_LOGOUT_EVENT } from "@/lib/claims-kit/oidc";
import { ClaimsKitError } from "@/lib/claims-kit";
import { memoryReplayStore } from "@/lib/claims-kit/plugin";

const ISS = "https://idp.example";
const quiet = { info() {}, warn() {}, error() {} };
const kit = { sessions: { revokeByProvider: async () => 1 } };

test("attack: the endpoint stops reading a huge body at its 64 KiB limit instead of buffering all of it", async () => {
  const h = backchannelLogout({ kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), keys: async () => { throw new Error("unused"); }, logger: quiet });
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= 32 * 1024 * 1024) return controller.close();
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  const request = new Request("https://app.example/api/auth/backchannel-logout", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
    duplex: "half",
  } as RequestInit);
  const response = await h.POST(request);
  assert.equal(response.status, 400);
  assert.ok(pulled <= 1024 * 1024, `read ${pulled / 1024 / 1024} MiB of an unauthenticated body before refusing it`);
});

function hangingFetch() {
  const realFetch = globalThis.fetch;
  const calls = { n: 0 };
  globalThis.fetch = ((_input: unknown, init?: RequestInit) => {
    calls.n++;
    return new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
  }) as typeof fetch;
  return { calls, restore: () => void (globalThis.fetch = realFetch) };
}
// Unref'd: a race it loses must not keep the test file running for its whole length.
const timeout = (ms: number) => new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms).unref());

test("attack: a malformed token is refused without contacting the provider (no outbound fetch per unauthenticated POST)", async () => {
  const f = hangingFetch();
  try {
    const h = backchannelLogout({ kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), logger: quiet });
    const garbage = await Promise.race([h.receive("not-a-jwt").then((r) => (r.ok ? "ok" : r.code)), timeout(1000)]);
    assert.equal(f.calls.n, 0, "a malformed token made the app fetch the provider's discovery document");
    assert.equal(garbage, "malformed_token");
  } finally {
    f.restore();
  }
});

test("attack: a provider discovery that never answers times out instead of hanging this and every later logout request", async (t) => {
  const f = hangingFetch();
  // The discovery's time limit passes at once: AbortSignal.timeout(ms) hands back a signal that
  // aborts on the next turn, and the limit asked for is checked instead of waited for (5 s).
  const limits: number[] = [];
  t.mock.method(AbortSignal, "timeout", (ms: number) => {
    limits.push(ms);
    const controller = new AbortController();
    setImmediate(() => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")));
    return controller.signal;
  });
  try {
    const h = backchannelLogout({ kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), logger: quiet });
    const { privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, jti: "j1", sid: "p1" }).setProtectedHeader({ alg: "RS256" }).setIssuer(ISS).setAudience("app").setIssuedAt().sign(privateKey);
    const answer = await Promise.race([h.receive(token).then((r) => (r.ok ? "ok" : r.code)), timeout(8000)]);
    assert.equal(answer, "provider_unavailable", "discovery has no timeout: the request hangs, and the cached pending promise hangs every later one");
    assert.ok(limits.length > 0 && limits.every((ms) => ms <= 5000), `discovery's time limits: ${limits.join(", ")} ms`);
  } finally {
    f.restore();
  }
});

// Security round 3 (#22, item 3): the accepted algorithms are checked when the server starts, not
// on the first logout token (which got a 500 while provider logouts silently stopped ending sessions).
test("attack: a handler whose algorithms list none, HS*, a typo or nothing is refused by check(), naming the option", async () => {
  const base = { kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), logger: quiet };
  const bad: unknown[] = [["RS256", "HS256"], ["none"], ["RS265"], ["rs256"], [], [""], "RS256", [256]];
  for (const algorithms of bad) {
    const lazy = backchannelLogout(() => ({ ...base, algorithms: algorithms as string[] }));
    assert.throws(() => lazy.check(), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_option" && e.option === "algorithms" && /option "algorithms"/.test(e.message), `lazy ${JSON.stringify(algorithms)}`);
    // Given as an object, the options are checked at once.
    assert.throws(() => backchannelLogout({ ...base, algorithms: algorithms as string[] }), (e: unknown) => e instanceof ClaimsKitError && e.option === "algorithms", `eager ${JSON.stringify(algorithms)}`);
  }
  for (const algorithms of [["RS256"], ["PS256", "ES256", "EdDSA"], ["RS512", "ES384", "Ed25519"]]) {
    backchannelLogout(() => ({ ...base, algorithms })).check();
  }
  backchannelLogout(() => base).check();
});

// Security round 3 (#22, item 2): the 10-second cooldown after a failed discovery did not cover the
// key fetch. While the provider's JWKS endpoint failed, every unauthenticated POST of a well-formed
// token made one outbound JWKS request, and the refusal said malformed_token.
function providerFetch(jwks: (n: number) => Response | Promise<Response>) {
  const realFetch = globalThis.fetch;
  const calls = { discovery: 0, jwks: 0 };
  globalThis.fetch = (async (input: unknown) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.endsWith("/.well-known/openid-configuration")) {
      calls.discovery++;
      return Response.json({ issuer: ISS, jwks_uri: `${ISS}/jwks` });
    }
    if (url === `${ISS}/jwks`) return jwks(++calls.jwks);
    throw new TypeError(`unexpected fetch ${url}`);
  }) as typeof fetch;
  return { calls, restore: () => void (globalThis.fetch = realFetch) };
}

async function logoutTokens(count: number, kid = "k1") {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(await new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, jti: `j${i}`, sid: "p1" }).setProtectedHeader({ alg: "RS256", kid }).setIssuer(ISS).setAudience("app").setIssuedAt().sign(privateKey));
  }
  return { tokens, publicKey };
}

test("attack: while the JWKS endpoint fails, logout POSTs make one key fetch per cooldown, and are refused as provider_unavailable", async () => {
  const answers: Array<[string, (n: number) => Response]> = [
    ["HTTP 500", () => new Response("oops", { status: 500 })],
    ["HTTP 200 that is not JSON", () => new Response("<html>maintenance</html>", { status: 200 })],
    ["HTTP 200 that is not a key set", () => Response.json({ error: "down" })],
    ["a network error", () => { throw new TypeError("fetch failed"); }],
  ];
  const { tokens } = await logoutTokens(6);
  for (const [name, answer] of answers) {
    const f = providerFetch(answer);
    let now = Date.now();
    try {
      const h = backchannelLogout({ kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), logger: quiet, clock: () => now });
      const codes: string[] = [];
      for (const token of tokens.slice(0, 5)) {
        const result = await h.receive(token);
        codes.push(result.ok ? "ok" : result.code);
      }
      assert.deepEqual(new Set(codes), new Set(["provider_unavailable"]), `${name}: ${codes.join(", ")}`);
      assert.deepEqual(f.calls, { discovery: 1, jwks: 1 }, `${name}: outbound requests for 5 unauthenticated POSTs`);
      now += 10_001; // after the cooldown the provider is asked again, once
      assert.equal((await h.receive(tokens[5]!)).ok, false);
      assert.equal(f.calls.jwks, 2, `${name}: asked again after the cooldown`);
    } finally {
      f.restore();
    }
  }
});

test("attack: after keys were loaded, tokens naming unknown kids while the JWKS endpoint fails make one fetch per cooldown", async () => {
  const { tokens: good, publicKey } = await logoutTokens(1, "k1");
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
  let healthy = true;
  const f = providerFetch(() => (healthy ? Response.json({ keys: [jwk] }) : new Response("oops", { status: 503 })));
  try {
    const h = backchannelLogout({ kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), logger: quiet });
    assert.equal((await h.receive(good[0]!)).ok, true, "a token signed with the provider's key is accepted");
    healthy = false;
    // jose refetches on an unknown kid once its own 30 s cooldown since the last successful fetch has passed.
    const { tokens: unknown } = await logoutTokens(5, "rotated");
    const realNow = Date.now;
    Date.now = () => realNow() + 31_000;
    try {
      const codes: string[] = [];
      for (const token of unknown) {
        const result = await h.receive(token);
        codes.push(result.ok ? "ok" : result.code);
      }
      assert.equal(f.calls.jwks, 2, `JWKS fetched ${f.calls.jwks - 1} times for 5 unauthenticated POSTs (codes ${codes.join(", ")})`);
    } finally {
      Date.now = realNow;
    }
  } finally {
    f.restore();
  }
});

test("attack: a logout whose sessions could not be ended while the database was down is applied by a retry (was: its jti stayed taken and every retry was refused as replayed)", async () => {
  const { tokens, publicKey } = await logoutTokens(1);
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256" };
  let down = true;
  let ended = 0;
  const store = memoryReplayStore();
  // The registry and the replay store share the database: both fail while it is down, once() after it marked.
  const replay = {
    once: async (key: string, expiresAt: number, now: number) => store.once(key, expiresAt, now),
    forget: async (key: string) => {
      if (down) throw new Error("connection refused");
      return store.forget(key);
    },
  };
  const failing = { sessions: { revokeByProvider: async () => { if (down) throw new Error("connection refused"); ended++; return 1; } } };
  let now = Date.now();
  const h = backchannelLogout({ kit: failing, issuer: ISS, clientId: "app", replay, keys: createLocalJWKSet({ keys: [jwk] }), logger: quiet, clock: () => now });
  const first = await h.receive(tokens[0]!);
  assert.deepEqual(first.ok ? "ok" : [first.kind, first.code], ["failed", "logout_failed"]);
  down = false;
  now += 31_000; // past the lock a failed delivery could not release
  const retry = await h.receive(tokens[0]!);
  assert.equal(retry.ok ? retry.revoked : retry.code, 1, "the provider's retry ends the sessions");
  assert.equal(ended, 1);
  const again = await h.receive(tokens[0]!);
  assert.equal(again.ok ? "ok" : again.code, "replayed", "once applied, it is a replay like any other");
});
