// Security review (attack): the back-channel logout endpoint is unauthenticated until the token is
// verified, so what it does before that must be bounded: the body it reads, and the provider
// discovery it waits for.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SignJWT, generateKeyPair } from "jose";
import { backchannelLogout, ClaimsKitError, memoryReplayStore, BACKCHANNEL_LOGOUT_EVENT } from "@/lib/claims-kit";

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
const timeout = (ms: number) => new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms));

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

test("attack: a provider discovery that never answers times out instead of hanging this and every later logout request", async () => {
  const f = hangingFetch();
  try {
    const h = backchannelLogout({ kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), logger: quiet });
    const { privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT({ events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, jti: "j1", sid: "p1" }).setProtectedHeader({ alg: "RS256" }).setIssuer(ISS).setAudience("app").setIssuedAt().sign(privateKey);
    const answer = await Promise.race([h.receive(token).then((r) => (r.ok ? "ok" : r.code)), timeout(8000)]);
    assert.equal(answer, "provider_unavailable", "discovery has no timeout: the request hangs, and the cached pending promise hangs every later one");
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
