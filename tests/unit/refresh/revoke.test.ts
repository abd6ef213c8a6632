// oauthRefresh's revokeUser() and processRevocationResponse (refresh/revoke.ts), review item 12.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { oauthRefresh } from "@/lib/claims-kit";
import { memoryVault } from "../vault-fake";
import { base } from "./support";
import { processRevocationResponse, type TokenEndpointResult } from "@/lib/claims-kit/refresh/token-endpoint";

const response = (status: number, body: unknown): TokenEndpointResult => ({ kind: "response", status, body: typeof body === "string" ? body : JSON.stringify(body) });

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
