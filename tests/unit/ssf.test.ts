// The Shared Signals receiver's configuration and subjects, without a network: the reference app's
// AUTH_SSF_* variables named at start-up, no receiver (404) without an issuer, and RFC 9493 subjects.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuth } from "@/auth.config";
import { readEnv } from "@/app/_lib/env";
import { createPrismaClient } from "@/app/_lib/db-client";
import { parseSubject, SECURITY_EVENT_TYPES, sharedSignals, ssfMetadataUrl } from "@/lib/claims-kit/oidc";
import { memoryReplayStore, memorySecurityEventLog } from "@/lib/claims-kit/plugin";

const base = { AUTH_SECRET: "s".repeat(32), DATABASE_URL: "file:/nonexistent/never-opened.db", AUTH_OIDC_ISSUER: "http://127.0.0.1:1", AUTH_OIDC_ID: "app", AUTH_OIDC_SECRET: "app-secret" };
const prisma = createPrismaClient(base.DATABASE_URL);
const app = (extra: Record<string, string>) => createAuth(readEnv({ ...base, ...extra }), { prisma });
const SSF = { AUTH_SSF_ISSUER: "https://tx.example", AUTH_SSF_AUDIENCE: "https://app.example" };

test("start-up names the AUTH_SSF_* variable at fault", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ...SSF, AUTH_SSF_ALGS: "RS256,HS256" }, /AUTH_SSF_ALGS is invalid/],
    [{ ...SSF, AUTH_SSF_ALGS: "none" }, /AUTH_SSF_ALGS is invalid/],
    [{ ...SSF, AUTH_SSF_ALGS: "" }, /AUTH_SSF_ALGS is invalid/],
    [{ ...SSF, AUTH_SSF_PUSH_TOKEN: "short" }, /AUTH_SSF_PUSH_TOKEN is invalid/],
    [{ AUTH_SSF_ISSUER: "https://tx.example" }, /AUTH_SSF_AUDIENCE must be set when AUTH_SSF_ISSUER is and AUTH_URL is not/],
    [{ ...SSF, AUTH_SSF_ISSUER: "https://tx.example/?tenant=1" }, /AUTH_SSF_ISSUER is invalid/],
  ];
  for (const [env, message] of cases) assert.throws(() => app(env).check(), message, JSON.stringify(env));
  assert.throws(() => readEnv({ AUTH_SSF_ISSUER: "not a url" }), /configuration: AUTH_SSF_ISSUER /);
  app({ ...SSF, AUTH_SSF_ALGS: "ES256", AUTH_SSF_PUSH_TOKEN: "a-long-enough-bearer-token" }).check();
  // The audience defaults to AUTH_URL's origin.
  app({ AUTH_SSF_ISSUER: "https://tx.example", AUTH_URL: "https://app.example/base" }).check();
});

test("without AUTH_SSF_ISSUER there is no receiver: nextClaimsKit() gets none, and its route answers 404", async () => {
  const none = app({});
  assert.equal(none.ssf, undefined);
  assert.equal(none.next.ssf, undefined);
  const some = app(SSF);
  assert.ok(some.ssf && some.next.ssf === some.ssf);
  const { optionalRoute } = await import("@/lib/claims-kit/next/internal/routes");
  assert.equal((await optionalRoute(undefined).POST(new Request("http://x/api/auth/ssf/events", { method: "POST" }))).status, 404);
});

test("the metadata URL inserts the well-known path before the issuer's path (RFC 8615, SSF 1.0)", () => {
  assert.equal(ssfMetadataUrl("https://tr.example.com"), "https://tr.example.com/.well-known/ssf-configuration");
  assert.equal(ssfMetadataUrl("https://tr.example.com/issuer1/"), "https://tr.example.com/.well-known/ssf-configuration/issuer1");
});

test("subjects: simple, complex and aliases read; malformed ones named", () => {
  assert.deepEqual(parseSubject({ format: "iss_sub", iss: "https://i", sub: "s" }), { format: "iss_sub", iss: "https://i", sub: "s" });
  assert.deepEqual(parseSubject({ format: "complex", user: { format: "email", email: "a@b" }, session: { format: "opaque", id: "sid" }, device: { format: "opaque", id: "d" } }), {
    format: "complex", user: { format: "email", email: "a@b" }, session: { format: "opaque", id: "sid" }, others: ["device"],
  });
  assert.deepEqual(parseSubject({ format: "phone_number", phone_number: "+1" }), { format: "other", name: "phone_number" });
  for (const bad of [null, "a@b", { format: "iss_sub", iss: "x" }, { format: "complex" }, { format: "complex", user: { format: "complex", user: {} } }, { format: "email", email: "x".repeat(2000) }]) {
    assert.equal(typeof parseSubject(bad), "string", JSON.stringify(bad)?.slice(0, 80));
  }
});

test("effects are checked at start-up: an unknown effect, or one for the receiver's own stream events, names the option", () => {
  const kit = { sessions: { revoke: async () => 0, revokeAll: async () => 0, revokeByProvider: async () => 0, listByProvider: async () => [], reloadClaims: async () => {} } };
  const make = (effects: Record<string, unknown>) => sharedSignals({ kit, issuer: "https://tx.example", audience: "https://app.example", replay: memoryReplayStore(), events: memorySecurityEventLog(), effects: effects as never });
  assert.throws(() => make({ "session-revoked": "explode" }), /effects\.session-revoked/);
  assert.throws(() => make({ verification: "log" }), /effects\.verification/);
  assert.throws(() => make({ "not-an-event": "log" }), /effects\.not-an-event/);
  make({ "session-revoked": "log", "https://example.com/event/custom": () => "done" });
});

// Round 2 (#27): the transmitter's metadata and JWKS were read whole before their size was checked
// (only a Content-Length was looked at first): a chunked answer was buffered entirely, however big.
test("attack: a huge metadata document or key set sent without Content-Length is cut at 256 KB, not buffered whole", async () => {
  const { generateKeyPair, SignJWT } = await import("jose");
  const { privateKey } = await generateKeyPair("ES256");
  const kit = { sessions: { revoke: async () => 0, revokeAll: async () => 0, revokeByProvider: async () => 0, listByProvider: async () => [], reloadClaims: async () => {} } };
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ iss: "https://tx.example", aud: "https://app.example", iat: now, jti: "j", sub_id: { format: "opaque", id: "s" }, events: { [SECURITY_EVENT_TYPES["session-revoked"]]: {} } })
    .setProtectedHeader({ alg: "ES256", typ: "secevent+jwt", kid: "k" }).sign(privateKey);
  // 32 MB of whitespace before a valid document, in 64 KB chunks, pulled on demand and counted.
  const huge = (json: unknown, pulled: { bytes: number }) => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let left = 512;
    return new Response(new ReadableStream({
      pull(controller) {
        if (left-- > 0) {
          pulled.bytes += chunk.byteLength;
          controller.enqueue(chunk);
        } else {
          controller.enqueue(new TextEncoder().encode(JSON.stringify(json)));
          controller.close();
        }
      },
    }), { status: 200, headers: { "content-type": "application/json" } });
  };
  const metadata = { issuer: "https://tx.example", jwks_uri: "https://tx.example/jwks" };
  const realFetch = globalThis.fetch;
  try {
    for (const which of ["metadata", "jwks"] as const) {
      const pulled = { bytes: 0 };
      globalThis.fetch = (async (input: unknown) => {
        const url = String(input instanceof Request ? input.url : input);
        if (url.endsWith("/.well-known/ssf-configuration")) return which === "metadata" ? huge(metadata, pulled) : Response.json(metadata);
        return huge({ keys: [] }, pulled);
      }) as typeof fetch;
      const rx = sharedSignals({ kit, issuer: "https://tx.example", audience: "https://app.example", replay: memoryReplayStore(), events: memorySecurityEventLog(), logger: { info() {}, warn() {}, error() {} } });
      const result = await rx.receive(token);
      assert.equal(result.ok ? "ok" : result.code, "transmitter_unavailable", which);
      assert.ok(pulled.bytes <= 512 * 1024, `${which}: ${pulled.bytes} bytes read from a 32 MB answer`);
    }
  } finally {
    globalThis.fetch = realFetch;
  }
});
