// RP-Initiated Logout: oauthRefresh's endSessionUrl().
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh } from "@/lib/claims-kit";
import { memoryVault } from "../vault-fake";
import { base, vaultToken } from "./support";

const NOW = 1_800_000_000;

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
