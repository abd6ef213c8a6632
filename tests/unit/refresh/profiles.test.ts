// Provider objects (refresh/profiles.ts, issue #13): Entra ID multi-tenant, GitHub (OAuth 2).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh } from "@/lib/claims-kit";
import { context, log } from "./support";

const NOW = 1_800_000_000;
const ISSUER = "https://idp.example";
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** An id_token as a token endpoint returns it (its signature is not what the refresh step checks: TLS from the endpoint is). */
const idToken = (claims: Record<string, unknown>) => {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: ISSUER, aud: "app", sub: "user-1", iat: now, exp: now + 600, ...claims })}.c2ln`;
};

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
