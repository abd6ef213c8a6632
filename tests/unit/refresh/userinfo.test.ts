// Issue #23, item 4: withUserinfo() and mergeUserinfo(), with a fake provider (discovery + userinfo).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClaimsKitError } from "@/lib/claims-kit";
import { mergeUserinfo, PROVIDER_PROFILES, withUserinfo, type UserinfoProvider } from "@/lib/claims-kit/oidc";

const ISSUER = "https://idp.example";

/** Discovery and a userinfo endpoint answering `answer` (a body, or a Response to send). */
function idp(answer: Record<string, unknown> | ((init?: RequestInit) => Response | Promise<Response>)) {
  const seen = { userinfo: 0, authorization: [] as string[] };
  const fetcher = (async (url: string | URL | Request, init?: RequestInit) => {
    const href = String(url);
    if (href.endsWith("/.well-known/openid-configuration")) return Response.json({ issuer: ISSUER, authorization_endpoint: `${ISSUER}/auth`, token_endpoint: `${ISSUER}/token`, userinfo_endpoint: `${ISSUER}/me` });
    if (href === `${ISSUER}/me`) {
      seen.userinfo++;
      seen.authorization.push(new Headers(init?.headers).get("authorization") ?? "");
      return typeof answer === "function" ? answer(init) : Response.json(answer);
    }
    return new Response("not found", { status: 404 });
  }) as typeof fetch;
  return { seen, fetcher };
}

const provider: UserinfoProvider = { id: "oidc", type: "oidc", issuer: ISSUER, clientId: "app" };
const tokens = { access_token: "at-1", token_type: "bearer" };
type Profile = (claims: Record<string, unknown>, t: typeof tokens) => Promise<Record<string, unknown>>;
const profileOf = (p: UserinfoProvider) => p.profile as unknown as Profile;

describe("mergeUserinfo", () => {
  test("what the id_token lacks, never sub; the id_token's values win", () => {
    const claims: Record<string, unknown> = { sub: "u1", name: "From id_token" };
    assert.deepEqual(mergeUserinfo(claims, { sub: "u1", name: "From userinfo", email: "a@example.com", email_verified: true, groups: ["g"] }), ["email", "groups", "email_verified"]);
    assert.deepEqual(claims, { sub: "u1", name: "From id_token", email: "a@example.com", groups: ["g"], email_verified: true });
  });

  test("email_verified describes an address: not taken for another address than the id_token's", () => {
    const claims: Record<string, unknown> = { sub: "u1", email: "old@example.com" };
    assert.deepEqual(mergeUserinfo(claims, { sub: "u1", email: "new@example.com", email_verified: true }), []);
    assert.deepEqual(claims, { sub: "u1", email: "old@example.com" });
    const same: Record<string, unknown> = { sub: "u1", email: "a@example.com" };
    mergeUserinfo(same, { sub: "u1", email: "a@example.com", email_verified: true });
    assert.equal(same.email_verified, true);
  });

  test("an address from userinfo without a verification claim stays unverified, whatever the id_token said", () => {
    const claims: Record<string, unknown> = { sub: "u1", email_verified: true };
    mergeUserinfo(claims, { sub: "u1", email: "a@example.com" });
    assert.deepEqual(claims, { sub: "u1", email: "a@example.com" });
  });
});

describe("withUserinfo", () => {
  test("a thin id_token: userinfo fetched with the new access token, merged into the claims Auth.js passes on, then the provider's profile()", async () => {
    const { seen, fetcher } = idp({ sub: "u1", email: "a@example.com", email_verified: true, name: "Alice" });
    const wrapped = withUserinfo(provider, { fetch: fetcher });
    const claims: Record<string, unknown> = { sub: "u1", iss: ISSUER };
    assert.deepEqual(await profileOf(wrapped)(claims, tokens), { id: "u1", name: "Alice", email: "a@example.com" }, "Auth.js's default profile from the merged claims");
    assert.deepEqual(claims, { sub: "u1", iss: ISSUER, email: "a@example.com", name: "Alice", email_verified: true }, "the same object: signIn() and jwt() see it merged");
    assert.deepEqual(seen.authorization, ["Bearer at-1"]);
    assert.equal(provider.profile, undefined, "the given provider is left as it was");
  });

  test("an id_token with every claim: no request", async () => {
    const { seen, fetcher } = idp({ sub: "u1" });
    const wrapped = withUserinfo({ ...provider, profile: (c) => ({ id: c.sub, custom: true }) }, { fetch: fetcher });
    assert.deepEqual(await profileOf(wrapped)({ sub: "u1", email: "a@example.com", email_verified: false, name: "A" }, tokens), { id: "u1", custom: true });
    assert.equal(seen.userinfo, 0);
  });

  test("userinfo naming another subject: refused (OIDC Core 5.3.2), nothing merged", async () => {
    const { fetcher } = idp({ sub: "someone-else", email: "victim@example.com", email_verified: true });
    const claims: Record<string, unknown> = { sub: "u1" };
    await assert.rejects(profileOf(withUserinfo(provider, { fetch: fetcher }))(claims, tokens), (e: unknown) => e instanceof ClaimsKitError && e.code === "userinfo_sub_mismatch");
    assert.deepEqual(claims, { sub: "u1" });
  });

  test("a userinfo failure (error answer, network, timeout) refuses the sign-in: nothing merged, no profile", async () => {
    const failures: Array<(init?: RequestInit) => Response | Promise<Response>> = [
      () => Response.json({ error: "invalid_token" }, { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } }),
      () => new Response("oops", { status: 500 }),
      () => Promise.reject(new TypeError("fetch failed")),
      // No answer: the request is given up after timeoutMs, as fetch does on its signal.
      (init) => new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))),
    ];
    for (const answer of failures) {
      const { fetcher } = idp(answer);
      const claims: Record<string, unknown> = { sub: "u1" };
      const keepAlive = setTimeout(() => {}, 1000);
      await assert.rejects(profileOf(withUserinfo(provider, { fetch: fetcher, timeoutMs: 100 }))(claims, tokens), (e: unknown) => e instanceof ClaimsKitError && e.code === "userinfo_failed");
      clearTimeout(keepAlive);
      assert.deepEqual(claims, { sub: "u1" });
    }
  });

  test("on for the generic OIDC provider and Okta's profile; off for providers whose id_tokens carry the claims, and when asked", async () => {
    assert.equal(PROVIDER_PROFILES.okta!.thinIdToken, true);
    const { seen, fetcher } = idp({ sub: "u1", email: "a@example.com" });
    for (const [p, options, asks] of [
      [{ ...provider, id: "okta" }, {}, true],
      [{ ...provider, id: "google" }, {}, false],
      [{ ...provider, id: "keycloak" }, { enabled: true }, true],
      [provider, { enabled: false }, false],
      [{ ...provider, idToken: false }, {}, false],
    ] as const) {
      const before = seen.userinfo;
      const wrapped = withUserinfo(p, { fetch: fetcher, ...options });
      await (wrapped.profile ? profileOf(wrapped)({ sub: "u1" }, tokens) : Promise.resolve());
      assert.equal(seen.userinfo > before, asks, `${p.id} ${JSON.stringify(options)}`);
    }
  });

  test("a profile() given in Auth.js's options (which Auth.js prefers) is the one wrapped", async () => {
    const { fetcher } = idp({ sub: "u1", email: "a@example.com", email_verified: true, name: "A" });
    const wrapped = withUserinfo({ ...provider, options: { profile: (c: Record<string, unknown>) => ({ id: c.sub, mail: c.email }) } }, { fetch: fetcher });
    const options = wrapped.options as unknown as { profile: Profile };
    assert.deepEqual(await options.profile({ sub: "u1" }, tokens), { id: "u1", mail: "a@example.com" });
    assert.equal(wrapped.profile, options.profile);
  });
});
