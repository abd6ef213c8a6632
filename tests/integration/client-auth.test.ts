// Issue #23, item 1, end to end: the reference app (auth.config.ts, one provider object for Auth.js
// and oauthRefresh) against the bundled provider set to compare Basic client credentials as sent,
// without URL-decoding them, as LemonLDAP::NG 2.16 does; the client id and secret contain the
// characters oauth4webapi's form encoding escapes and Auth.js's does not.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as o from "oauth4webapi";
import { fromAuthjsProvider } from "../../lib/claims-kit/oidc";
import type { AppSession } from "./harness";
import { fakeClock, startHarness, type Harness } from "./harness";

const CLIENT = { clientId: "claims-kit-app", clientSecret: "s3cr-et_.!~*'()" };
const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now, behaviour: { literalBasicCredentials: true }, client: CLIENT });
});
after(async () => {
  await h.close();
});

describe("a provider that does not URL-decode Basic credentials (LemonLDAP::NG's behaviour)", () => {
  test("the switch holds: oauth4webapi's own ClientSecretBasic (claims%2Dkit%2Dapp) is refused with invalid_client", async () => {
    const issuer = new URL(h.provider.issuer);
    const as = await o.processDiscoveryResponse(issuer, await o.discoveryRequest(issuer, { [o.allowInsecureRequests]: true }));
    const response = await o.refreshTokenGrantRequest(as, { client_id: CLIENT.clientId }, o.ClientSecretBasic(CLIENT.clientSecret), "not-a-refresh-token", { [o.allowInsecureRequests]: true });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error?: string }).error, "invalid_client");
  });

  test("sign-in (Auth.js's code exchange), refresh and revocation all authenticate", async () => {
    const b = h.browser();
    await b.signIn("literal@example.com");
    const user = await h.prisma.user.findUniqueOrThrow({ where: { email: "literal@example.com" }, include: { accounts: true } });
    const before = user.accounts[0]!;
    clock.advance(3600);
    h.provider.reset();
    const session = await b.session<AppSession>();
    assert.equal(session?.errors, undefined, `refreshed (errors: ${JSON.stringify(session?.errors)})`);
    assert.deepEqual([h.provider.stats().refreshSuccess, h.provider.stats().refreshErrors], [1, 0]);
    const after = await h.prisma.account.findUniqueOrThrow({ where: { id: before.id } });
    assert.notEqual(after.refresh_token, before.refresh_token, "rotated");
    assert.equal((await h.oauth.revokeUser(user.id)).revoked, 1, "revocation authenticates the same way");
    assert.equal(h.provider.stats().revocations, 1);
  });
});

describe("AUTH_OIDC_TOKEN_AUTH_METHOD: one value for Auth.js's sign-in and the kit's refresh", () => {
  test("the provider object Auth.js signs in with carries it, and the kit reads it from that object; an invalid value is named at start-up", async () => {
    const { oidcProvider } = await import("../../auth.config");
    const { readEnv } = await import("../../app/_lib/env");
    const signIn = h.config.providers.find((p) => (p as { id?: string }).id === "oidc") as ReturnType<typeof oidcProvider>;
    assert.equal(signIn.client.token_endpoint_auth_method, "client_secret_basic", "the default");
    assert.deepEqual(fromAuthjsProvider(signIn), { provider: "oidc", issuer: h.provider.issuer, clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, clientAuth: "client_secret_basic" });
    for (const method of ["client_secret_post", "client_secret_jwt"] as const) {
      const env = readEnv({ AUTH_OIDC_ISSUER: h.issuer, AUTH_OIDC_ID: CLIENT.clientId, AUTH_OIDC_SECRET: CLIENT.clientSecret, AUTH_OIDC_TOKEN_AUTH_METHOD: method });
      assert.equal(env.AUTH_OIDC_TOKEN_AUTH_METHOD, method);
      assert.equal(oidcProvider(env).client.token_endpoint_auth_method, method);
      assert.equal(fromAuthjsProvider(oidcProvider(env)).clientAuth, method);
    }
    const publicClient = oidcProvider(readEnv({ AUTH_OIDC_ISSUER: h.issuer, AUTH_OIDC_ID: CLIENT.clientId, AUTH_OIDC_SECRET: CLIENT.clientSecret, AUTH_OIDC_TOKEN_AUTH_METHOD: "none" }));
    assert.deepEqual([publicClient.clientSecret, fromAuthjsProvider(publicClient).clientAuth], [undefined, "none"]);
    for (const wrong of ["private_key_jwt", "basic", "tls_client_auth"]) {
      assert.throws(() => readEnv({ AUTH_OIDC_TOKEN_AUTH_METHOD: wrong }), /AUTH_OIDC_TOKEN_AUTH_METHOD must be one of client_secret_basic, client_secret_post, client_secret_jwt, none/);
    }
  });
});
