// Issue #23, item 1: the kit's refresh (and revocation) must authenticate exactly as Auth.js's code
// exchange did at sign-in with the same provider object, for every token_endpoint_auth_method.
// Both requests are captured by one local HTTP token endpoint: Auth.js's through a real sign-in and
// callback run in @auth/core's Auth(), the kit's through oauthRefresh({ provider }).
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { Auth } from "@auth/core";
import { CookieJar } from "../../../scripts/oidc/dev-login";
import { oauthRefresh } from "@/lib/claims-kit";
import { type AuthjsProviderConfig } from "@/lib/claims-kit/oidc";
import { memoryVault } from "../vault-fake";
import { base, context } from "./support";

interface Captured {
  authorization: string | null;
  /** The body's parameters that authenticate the client (grant parameters left out). */
  params: Record<string, string>;
}

const GRANT_PARAMS = new Set(["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "token", "token_type_hint"]);
let server: Server;
let issuer: string;
const captured: Captured[] = [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

before(async () => {
  server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (path === "/.well-known/openid-configuration") {
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          userinfo_endpoint: `${issuer}/userinfo`,
          revocation_endpoint: `${issuer}/revoke`,
          jwks_uri: `${issuer}/jwks`,
          response_types_supported: ["code"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      }
      if (path === "/token" || path === "/revoke") {
        const body = new URLSearchParams(await readBody(req));
        captured.push({ authorization: req.headers.authorization ?? null, params: Object.fromEntries([...body].filter(([k]) => !GRANT_PARAMS.has(k))) });
        return json(400, { error: "invalid_grant" });
      }
      json(404, { error: "not_found" });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const APP = "http://localhost:3998";
const SECRET = "client-auth-test-secret-0123456789abcdef";

/** What Auth.js's code exchange sends: a sign-in, then its callback with a code, through Auth(). */
async function authjsCodeExchange(provider: AuthjsProviderConfig): Promise<Captured> {
  const config = { providers: [provider as never], secret: SECRET, trustHost: true, basePath: "/api/auth", logger: { error() {}, warn() {}, debug() {} } };
  const jar = new CookieJar();
  const send = async (pathname: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.header()) headers.set("cookie", jar.header());
    const response = await Auth(new Request(new URL(pathname, APP), { ...init, headers }), config);
    jar.store(response);
    return response;
  };
  const { csrfToken } = (await (await send("/api/auth/csrf")).json()) as { csrfToken: string };
  const start = await send(`/api/auth/signin/${provider.id}`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken, callbackUrl: APP }) });
  const authorize = new URL(start.headers.get("location") ?? "");
  assert.equal(`${authorize.origin}${authorize.pathname}`, `${issuer}/authorize`, "the sign-in redirects to the provider");
  const before = captured.length;
  await send(`/api/auth/callback/${provider.id}?${new URLSearchParams({ code: "the-code", ...(authorize.searchParams.get("state") ? { state: authorize.searchParams.get("state")! } : {}) })}`);
  assert.equal(captured.length, before + 1, "Auth.js called the token endpoint once");
  return captured.at(-1)!;
}

/** What the kit's refresh sends for the same provider object (cookie mode, one expired token). */
async function kitRefresh(provider: AuthjsProviderConfig): Promise<Captured> {
  const log = { info() {}, warn() {}, error() {} };
  const plugin = oauthRefresh({ provider, mode: "cookie", logger: log });
  const before = captured.length;
  const now = Math.floor(Date.now() / 1000);
  await plugin.jwt!({ token: { sub: "u", oauth: { at: "a0", rt: "r0", e: now - 10, i: now - 3600 } }, userId: "u", now, log, trigger: undefined, report: () => {} });
  assert.equal(captured.length, before + 1, "the kit called the token endpoint once");
  return captured.at(-1)!;
}

/** A client assertion with what varies per request (jti, times) left out; the signature checked with `verify`. */
async function assertionShape(jwt: string, verify?: (input: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>) => Promise<boolean>) {
  const [header, payload, signature] = jwt.split(".");
  const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
  const { jti, iat, nbf, exp, ...stable } = decode(payload!);
  assert.ok(typeof jti === "string" && typeof iat === "number" && typeof exp === "number" && typeof nbf === "number");
  if (verify) assert.ok(await verify(new TextEncoder().encode(`${header}.${payload}`), new Uint8Array(Buffer.from(signature!, "base64url"))), "the signature verifies");
  return { header: decode(header!), payload: stable };
}

/** Captured client authentication, with client assertions reduced to their stable parts. */
async function normalised(c: Captured, verify?: (input: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>) => Promise<boolean>) {
  const { client_assertion, ...params } = c.params;
  return { authorization: c.authorization, params, ...(client_assertion ? { assertion: await assertionShape(client_assertion, verify) } : {}) };
}

// Ids and secrets with the characters oauth4webapi's form encoding escapes and Auth.js's does not
// (-_.!~*'()), and with ':', '%', a space and non-ASCII, which both encode.
const CREDENTIALS = [
  { clientId: "claims-kit_app.v1!~*'()", clientSecret: "s3cr-et_.!~*'()" },
  { clientId: "app:1%2F über", clientSecret: "pä:ss%20wörd € x" },
];

describe("client authentication: the kit's refresh sends what Auth.js's code exchange sent (issue #23, item 1)", () => {
  for (const [n, { clientId, clientSecret }] of CREDENTIALS.entries()) {
    for (const method of ["client_secret_basic", "client_secret_post", "client_secret_jwt", "none"] as const) {
      test(`${method}, credentials set ${n + 1}`, async () => {
        const provider: AuthjsProviderConfig = { id: `idp${n}`, type: "oidc", issuer, clientId, ...(method === "none" ? {} : { clientSecret }), client: { token_endpoint_auth_method: method } };
        const hmac = method === "client_secret_jwt"
          ? await crypto.subtle.importKey("raw", new TextEncoder().encode(clientSecret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"])
          : undefined;
        const verify = hmac ? (input: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>) => crypto.subtle.verify("HMAC", hmac, signature, input) : undefined;
        const authjs = await normalised(await authjsCodeExchange({ ...provider, name: "IdP" } as AuthjsProviderConfig), verify);
        const kit = await normalised(await kitRefresh(provider), verify);
        assert.deepEqual(kit, authjs);
        if (method === "client_secret_basic") {
          const [user, pass] = Buffer.from(kit.authorization!.replace(/^Basic /, ""), "base64").toString("utf8").split(":");
          assert.deepEqual([user, pass], [encodeURIComponent(clientId).replace(/%20/g, "+"), encodeURIComponent(clientSecret).replace(/%20/g, "+")]);
        }
      });
    }

    test(`private_key_jwt (the key in Auth.js's token.clientPrivateKey), credentials set ${n + 1}`, async () => {
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const provider: AuthjsProviderConfig = {
        id: `pk${n}`, type: "oidc", issuer, clientId,
        client: { token_endpoint_auth_method: "private_key_jwt" },
        token: { clientPrivateKey: { key: pair.privateKey, kid: "k1" } },
      };
      const verify = (input: Uint8Array<ArrayBuffer>, signature: Uint8Array<ArrayBuffer>) => crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, input);
      const authjs = await normalised(await authjsCodeExchange({ ...provider, name: "IdP" } as AuthjsProviderConfig), verify);
      const kit = await normalised(await kitRefresh(provider), verify);
      assert.deepEqual(kit, authjs);
      assert.deepEqual(kit.assertion?.payload.aud, [issuer, `${issuer}/token`], "Auth.js's audience: the issuer and the token endpoint");
    });
  }

  test("revocation authenticates the same way as the refresh", async () => {
    const { clientId, clientSecret } = CREDENTIALS[0]!;
    const provider: AuthjsProviderConfig = { id: "rv", type: "oidc", issuer, clientId, clientSecret };
    const refresh = await normalised(await kitRefresh(provider));
    const vault = memoryVault({});
    const plugin = oauthRefresh({ provider, vault, logger: { info() {}, warn() {}, error() {} } });
    const before = captured.length;
    await plugin.revokeUser("u");
    assert.equal(captured.length, before + 1);
    assert.deepEqual(await normalised(captured.at(-1)!), refresh);
  });
});

describe("client authentication at the token endpoint (oauth4webapi)", () => {
  const NOW = 1_800_000_000;

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
    // Auth.js's audience for private_key_jwt (the tests above compare the two).
    const header = assertionOf((await seen({ clientAuth: "private_key_jwt", clientSecret: undefined, clientPrivateKey: jwk })).body, ["https://idp.example", "https://idp.example/token"]);
    assert.deepEqual([header.alg, header.kid], ["ES256", "k1"]);
  });

  test("a missing key or secret for the method is refused at start-up, naming the option", () => {
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientAuth: "private_key_jwt", clientSecret: undefined }), /clientPrivateKey/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientAuth: "client_secret_jwt", clientSecret: undefined }), /clientSecret/);
    assert.throws(() => oauthRefresh({ ...base, mode: "cookie", clientAuth: "tls_client_auth" as never }), /clientAuth/);
  });
});
