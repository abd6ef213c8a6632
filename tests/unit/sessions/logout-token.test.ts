// Security review round 4 (attack, held): forged back-channel logout tokens. The handler trusts the
// provider's key set only; a token that brings its own key, points at another key set, asks for a
// critical extension, nests a JWT or names a provider id crafted to collide with another user's is
// refused (or matches nothing), and no session ends.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload } from "jose";
import { backchannelLogout, BACKCHANNEL_LOGOUT_EVENT } from "@/lib/claims-kit/oidc";
import { memoryReplayStore } from "@/lib/claims-kit/plugin";

const ISS = "https://idp.example";
const quiet = { info() {}, warn() {}, error() {} };

async function setup() {
  const provider = await generateKeyPair("RS256", { extractable: true });
  const attacker = await generateKeyPair("RS256", { extractable: true });
  const providerJwk = { ...(await exportJWK(provider.publicKey)), kid: "idp-1", alg: "RS256", use: "sig" };
  const attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: "idp-1", alg: "RS256" };
  const revoked: Array<Record<string, unknown>> = [];
  const kit = { sessions: { revokeByProvider: async (where: Record<string, unknown>) => (revoked.push(where), 1) } };
  const handler = backchannelLogout({ kit, issuer: ISS, clientId: "app", replay: memoryReplayStore(), keys: createLocalJWKSet({ keys: [providerJwk] }), logger: quiet });
  const claims = (over: Record<string, unknown> = {}): JWTPayload => {
    const now = Math.floor(Date.now() / 1000);
    return { iss: ISS, aud: "app", iat: now, exp: now + 120, jti: randomUUID(), sid: "victim-sid", events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...over };
  };
  return { provider, attacker, attackerJwk, handler, revoked, claims };
}

describe("review round 4: forged logout tokens (held)", () => {
  test("review round 4: a token signed with the attacker's key is refused however its header points at that key", async () => {
    const { attacker, attackerJwk, handler, revoked, claims } = await setup();
    const headers: Array<[string, Record<string, unknown>]> = [
      ["an embedded jwk", { jwk: attackerJwk, kid: "idp-1" }],
      ["a jku to the attacker's key set", { jku: "https://evil.example/jwks", kid: "idp-1" }],
      ["an x5u", { x5u: "https://evil.example/cert.pem", kid: "idp-1" }],
      ["a kid that looks like a path", { kid: "../../../../dev/null" }],
      ["no kid at all", {}],
    ];
    for (const [name, header] of headers) {
      const token = await new SignJWT(claims()).setProtectedHeader({ alg: "RS256", typ: "logout+jwt", ...header }).sign(attacker.privateKey);
      const r = await handler.receive(token);
      assert.deepEqual(r.ok ? "accepted" : r.code, "invalid_signature", name);
    }
    assert.deepEqual(revoked, []);
  });

  test("review round 4: critical extensions, nested and encrypted tokens, and mis-typed tokens are refused even with the provider's signature", async () => {
    const { provider, handler, revoked, claims } = await setup();
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    // Signed by hand: jose would refuse to sign some of these headers at all.
    const sign = async (payload: JWTPayload, header: Record<string, unknown>) => {
      const input = `${b64({ alg: "RS256", kid: "idp-1", ...header })}.${b64(payload)}`;
      const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", provider.privateKey as CryptoKey, new TextEncoder().encode(input));
      return `${input}.${Buffer.from(signature).toString("base64url")}`;
    };
    const inner = await sign(claims(), { typ: "logout+jwt" });
    const cases: Array<[string, string, string]> = [
      ["an unknown critical extension", await sign(claims(), { typ: "logout+jwt", crit: ["exp-policy"], "exp-policy": 1 }), "unsupported_alg"],
      ["a JWE (five parts)", `${inner}.x.y`, "malformed_token"],
      ["a typ with a trailing space", await sign(claims(), { typ: "logout+jwt " }), "invalid_typ"],
      ["a typ that is not a string", await sign(claims(), { typ: ["logout+jwt"] }), "invalid_typ"],
      ["the events claim as an array", await sign(claims({ events: [BACKCHANNEL_LOGOUT_EVENT] }), {}), "invalid_events"],
      ["the event's value not an object", await sign(claims({ events: { [BACKCHANNEL_LOGOUT_EVENT]: "yes" } }), {}), "invalid_events"],
      ["a nonce that is null", await sign(claims({ nonce: null }), {}), "nonce_present"],
      ["an empty sid and sub", await sign(claims({ sid: "", sub: "" }), {}), "missing_subject"],
      ["a sid that is not a string", await sign(claims({ sid: { $ne: null } }), {}), "missing_subject"],
    ];
    for (const [name, token, code] of cases) {
      const r = await handler.receive(token);
      assert.deepEqual(r.ok ? "accepted" : r.code, code, name);
    }
    assert.deepEqual(revoked, []);
  });
});
