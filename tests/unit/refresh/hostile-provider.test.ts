// Security review (attack) of the refresh path on oauth4webapi: each test pins a finding's fix.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh } from "@/lib/claims-kit";
import { type AccountRef, type TokenSet, type TokenVault, type VaultEntry } from "@/lib/claims-kit/plugin";
import { processRefreshResponse, type RefreshContext, type TokenEndpointResult } from "@/lib/claims-kit/refresh/token-endpoint";

const NOW = Math.floor(Date.now() / 1000);
const ISSUER = "https://idp.example";
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const idToken = (claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "RS256", typ: "JWT" }) =>
  `${b64(header)}.${b64({ iss: ISSUER, aud: "app", sub: "user-1", iat: NOW, exp: NOW + 600, ...claims })}.c2ln`;
const response = (status: number, body: unknown): TokenEndpointResult => ({ kind: "response", status, body: typeof body === "string" ? body : JSON.stringify(body) });
const ctx: RefreshContext = { previousRefreshToken: "r0", now: NOW, issuer: ISSUER, clientId: "app", expectedSub: "user-1" };
const log = { info() {}, warn() {}, error() {} };
const context = (token: Record<string, unknown>, now: number) => ({ token, userId: "u", now, log, trigger: undefined, report: () => {} });

/** Per-account in-memory vault with the Prisma vault's conditional writes. */
function vaultOf(entries: Record<string, Partial<VaultEntry>>) {
  const rows = new Map<string, VaultEntry>();
  for (const [provider, e] of Object.entries(entries)) {
    rows.set(provider, { accessToken: null, refreshToken: null, idToken: null, expiresAt: NOW - 10, refreshedAt: NOW - 3600, refreshCount: 0, refreshError: null, refreshErrorAt: null, refreshFailures: 0, refreshFailedWith: null, refreshRetryAt: null, leaseOwner: null, leaseUntil: null, ...e });
  }
  const row = (r: AccountRef) => rows.get(r.provider)!;
  const save = (r: AccountRef, t: TokenSet, now: number) => Object.assign(row(r), { accessToken: t.accessToken, refreshToken: t.refreshToken, idToken: t.idToken ?? row(r).idToken, expiresAt: t.expiresAt, refreshedAt: now, refreshCount: row(r).refreshCount + 1, refreshError: null, refreshErrorAt: null, refreshFailures: 0, refreshFailedWith: null, refreshRetryAt: null, leaseOwner: null, leaseUntil: null });
  const vault: TokenVault = {
    read: async (r) => (rows.has(r.provider) ? { ...row(r) } : null),
    store: async () => {},
    acquire: async (r, owner, now, until) => {
      if (row(r).leaseUntil !== null && row(r).leaseUntil! >= now) return false;
      Object.assign(row(r), { leaseOwner: owner, leaseUntil: until });
      return true;
    },
    complete: async (r, owner, t, now) => (row(r).leaseOwner === owner ? (save(r, t, now), true) : false),
    adopt: async (r, presented, t, now) => (row(r).refreshToken === presented ? (save(r, t, now), true) : false),
    release: async (r, owner) => void (row(r).leaseOwner === owner && Object.assign(row(r), { leaseOwner: null, leaseUntil: null })),
    backOff: async (r, owner, b) => void (row(r).leaseOwner === owner && Object.assign(row(r), { leaseOwner: null, leaseUntil: null, refreshFailures: b.failures, refreshFailedWith: b.failedWith, refreshRetryAt: b.retryAt })),
    stop: async (r, owner, error, at) => void (row(r).leaseOwner === owner && Object.assign(row(r), { leaseOwner: null, leaseUntil: null, refreshError: error, refreshErrorAt: at })),
    accountsOf: async (_u, provider) => (rows.has(provider) ? [{ provider, providerAccountId: `${provider}-acct` }] : []),
    clear: async () => {},
  };
  return Object.assign(vault, { rows });
}

describe("attack: id_token checks on refresh", () => {
  test("held: alg none, another subject / issuer / audience are refused", async () => {
    for (const id of [idToken({}, { alg: "none" }), idToken({ sub: "user-2" }), idToken({ iss: "https://evil.example" }), idToken({ aud: ["app", "evil"] })]) {
      const out = await processRefreshResponse(response(200, { access_token: "a1", token_type: "Bearer", id_token: id }), ctx);
      assert.equal(!out.ok && out.code, "invalid_id_token", id);
    }
  });

  test("fixed (review): a provider that signs id_tokens with ES256 (and says so in discovery) cannot refresh: RS256 is hard-wired", async () => {
    const fetcher = (async (url: string) => {
      if (String(url).endsWith("/.well-known/openid-configuration")) {
        return Response.json({ issuer: ISSUER, token_endpoint: `${ISSUER}/token`, authorization_endpoint: `${ISSUER}/auth`, id_token_signing_alg_values_supported: ["ES256"] });
      }
      return Response.json({ access_token: "a1", token_type: "Bearer", expires_in: 600, id_token: idToken({}, { alg: "ES256", typ: "JWT" }) });
    }) as unknown as typeof fetch;
    const plugin = oauthRefresh({ provider: "oidc", issuer: ISSUER, clientId: "app", clientSecret: "s", mode: "cookie", keepIdToken: true, fetch: fetcher, logger: log });
    const signedIn = { sub: "u", oauth: { at: "a0", rt: "r0", e: NOW - 10, i: NOW - 3600, it: idToken({}, { alg: "ES256", typ: "JWT" }) } };
    const out = await Promise.resolve(plugin.jwt!(context(signedIn, NOW))).catch((e: { code?: string }) => e.code);
    assert.notEqual(out, "invalid_id_token", "an ES256 id_token from an ES256 provider must pass");
  });

  test("fixed (review): a rotated refresh token in an answer whose id_token fails is thrown away; the next refresh presents the consumed one (invalid_grant: grant lost)", async () => {
    // A rotating provider with reuse detection (Auth0, Okta, Keycloak "Revoke Refresh Token").
    let live = "r0";
    const presented: string[] = [];
    const fetcher = (async (_url: string, init: RequestInit) => {
      const rt = new URLSearchParams(String(init.body)).get("refresh_token")!;
      presented.push(rt);
      if (rt !== live) return Response.json({ error: "invalid_grant" }, { status: 400 });
      live = `r${presented.length}`;
      // The id_token is one the kit refuses (here an HS256 one, as Auth0 apps may be configured).
      return Response.json({ access_token: `a${presented.length}`, token_type: "Bearer", expires_in: 600, refresh_token: live, id_token: idToken({}, { alg: "HS256", typ: "JWT" }) });
    }) as unknown as typeof fetch;
    const vault = vaultOf({ oidc: { accessToken: "a0", refreshToken: "r0", idToken: idToken({}) } });
    const plugin = oauthRefresh({ provider: "oidc", tokenEndpoint: `${ISSUER}/token`, clientId: "app", clientSecret: "s", vault, fetch: fetcher, logger: log });
    const token = { sub: "u", oauth: { p: "oidc", a: "oidc-acct", e: NOW - 10, i: NOW - 3600 } };
    const codes: unknown[] = [];
    for (let i = 0; i < 2; i++) codes.push(await Promise.resolve(plugin.jwt!(context(token, NOW))).then(() => "ok", (e: { code?: string }) => e.code));
    assert.deepEqual(presented, ["r0"], "the consumed token is never presented again");
    assert.equal(vault.rows.get("oidc")!.refreshToken, live, `the vault must hold the provider's live refresh token (jwt(): ${codes.join(", ")}; stored error: ${vault.rows.get("oidc")!.refreshError})`);
  });

  test("fixed (review): Entra multi-tenant in cookie mode (default keepIdToken: false) never refreshes: the template issuer falls back to /common/", async () => {
    const { default: MicrosoftEntraID } = await import("@auth/core/providers/microsoft-entra-id");
    const tenant = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;
    const fetcher = (async (url: string) => {
      if (String(url).endsWith("/.well-known/openid-configuration")) {
        return Response.json({ issuer: tenant("{tenantid}"), token_endpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token", authorization_endpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize" });
      }
      return Response.json({ access_token: "a1", token_type: "Bearer", expires_in: 3600, refresh_token: "r1", id_token: idToken({ iss: tenant("tenant-a") }) });
    }) as unknown as typeof fetch;
    assert.throws(() => oauthRefresh({ provider: MicrosoftEntraID({ clientId: "app", clientSecret: "s" }), mode: "cookie", fetch: fetcher, logger: log }), /keepIdToken/, "refused at start-up, naming the option");
    const kept = oauthRefresh({ provider: MicrosoftEntraID({ clientId: "app", clientSecret: "s" }), mode: "cookie", keepIdToken: true, fetch: fetcher, logger: log });
    const out = await Promise.resolve(kept.jwt!(context({ sub: "u1", oauth: { at: "a0", rt: "r0", e: NOW - 10, i: NOW - 3600, it: idToken({ iss: tenant("tenant-a") }) } }, NOW))).then(() => "ok", (e: { code?: string }) => e.code);
    assert.equal(out, "ok");
  });
});

describe("attack: transport", () => {
  test("fixed (review): an https issuer whose discovery names an http:// token endpoint gets the refresh token and client secret in cleartext", async () => {
    const sent: string[] = [];
    const fetcher = (async (url: string, init?: RequestInit) => {
      if (String(url).endsWith("/.well-known/openid-configuration")) {
        // Keycloak behind a TLS proxy without proxy headers publishes exactly this.
        return Response.json({ issuer: ISSUER, token_endpoint: "http://idp.example/token", authorization_endpoint: `${ISSUER}/auth` });
      }
      sent.push(`${String(url)} ${new Headers(init?.headers).get("authorization") ?? ""} ${String(init?.body)}`);
      return Response.json({ access_token: "a1", token_type: "Bearer", expires_in: 600 });
    }) as unknown as typeof fetch;
    const plugin = oauthRefresh({ provider: "oidc", issuer: ISSUER, clientId: "app", clientSecret: "s3cret", mode: "cookie", fetch: fetcher, logger: log });
    await Promise.resolve(plugin.jwt!(context({ sub: "u", oauth: { at: "a0", rt: "r0", e: NOW - 10, i: NOW - 3600 } }, NOW))).catch(() => undefined);
    assert.deepEqual(sent.filter((s) => s.startsWith("http://")), [], "nothing may be sent to an http:// endpoint the https issuer's metadata named");
  });
});

describe("attack: error classification", () => {
  test("fixed (review): interaction_required / login_required / consent_required (Entra conditional access) are retried on every request as server_error", async () => {
    for (const error of ["interaction_required", "login_required", "consent_required"]) {
      const out = await processRefreshResponse(response(400, { error, error_description: "AADSTS50076" }), ctx);
      assert.ok(!out.ok);
      assert.notEqual(out.code, "server_error", `${error} is not transient: retrying cannot succeed without the user`);
    }
  });

  test("fixed (review): GitHub's wrong client secret (HTTP 200 incorrect_client_credentials) is server_error, not client_error", async () => {
    const out = await processRefreshResponse(response(200, { error: "incorrect_client_credentials", error_description: "The client_id and/or client_secret passed are incorrect." }), ctx);
    assert.equal(!out.ok && out.code, "client_error");
  });
});

describe("attack: linked providers", () => {
  test("fixed (review): after linking, getAccessToken(oauth) hands the linked provider's token to code that calls the main provider's endpoints()", async () => {
    const vault = vaultOf({ oidc: { accessToken: "main-at", refreshToken: "r", expiresAt: NOW + 3600, refreshedAt: NOW }, work: { accessToken: "work-at", refreshToken: "r", expiresAt: NOW + 3600, refreshedAt: NOW } });
    const plugin = oauthRefresh({
      provider: "oidc", tokenEndpoint: "https://main.example/token", clientId: "app", clientSecret: "s", vault, logger: log,
      linked: [{ provider: "work", tokenEndpoint: "https://work.example/token", clientId: "w", clientSecret: "s" }],
    });
    // The session cookie after the "work" link callback (the kit's sign-in ran with account.provider "work").
    const afterLink = { sub: "u", oauth: { p: "work", a: "work-acct", e: NOW + 3600, i: NOW } };
    const info = await plugin.accessToken(afterLink, NOW);
    assert.equal((await plugin.endpoints()).tokenEndpoint, "https://main.example/token");
    assert.equal(info?.accessToken, "main-at", "the main source's token goes with the main provider's endpoints");
  });
});
