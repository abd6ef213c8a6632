// Provider profiles (issue #13, item 4): Auth.js's own provider objects handed to oauthRefresh()
// as they are, each against the bundled provider configured to answer the way that provider does,
// over real HTTP and the real Prisma vault. Per profile: a sign-in that yields a refresh token the
// way that provider gives one, three expiry windows of 50 concurrent reads (one refresh call each),
// rotation as the provider does it, transient faults that keep the refresh token (and recover once
// the back-off has passed), and a dead refresh token that stops refreshing (sign in again).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Auth0 from "@auth/core/providers/auth0";
import GitHub from "@auth/core/providers/github";
import Google from "@auth/core/providers/google";
import Keycloak from "@auth/core/providers/keycloak";
import MicrosoftEntraID from "@auth/core/providers/microsoft-entra-id";
import Okta from "@auth/core/providers/okta";
import * as o from "oauth4webapi";
import { claimsKit, oauthRefresh, type OAuthRefreshOptions } from "../../lib/claims-kit";
import { type AuthjsProviderConfig } from "../../lib/claims-kit/oidc";
import { prismaTokenVault } from "../../lib/claims-kit/prisma";
import { clientAuthentication, type ClientAuth, type ClientPrivateKey } from "../../lib/claims-kit/refresh/oauth-client";
import { devLoginAt } from "../../scripts/oidc/dev-login";
import { startOidcProvider, type ProviderBehaviour, type RunningOidcProvider } from "../../scripts/oidc/provider";
import { freshDatabase } from "./harness";

const REDIRECT = "http://localhost:3999/api/auth/callback/profile";
const SECRET = "profile-client-secret";
const insecure = { [o.allowInsecureRequests]: true } as const;

interface Profile {
  name: string;
  behaviour: ProviderBehaviour;
  clientAuth: ClientAuth;
  /** What the app asks for at sign-in to get a refresh token from this provider. */
  scope: string;
  prompt?: string;
  /** The Auth.js provider object, pointed at the bundled provider. */
  provider: (issuer: string, clientId: string) => AuthjsProviderConfig;
  /** Options the app sets besides the provider object (GitHub: its token endpoint lives elsewhere here). */
  extra?: (issuer: string) => Partial<OAuthRefreshOptions>;
  rotates: boolean;
  idToken: boolean;
}

const profiles: Profile[] = [
  { name: "Google", behaviour: { rotateRefreshToken: false }, clientAuth: "client_secret_post", scope: "openid email profile offline_access", prompt: "consent", provider: (issuer, clientId) => Google({ clientId, clientSecret: SECRET, issuer, client: { token_endpoint_auth_method: "client_secret_post" } }), rotates: false, idToken: true },
  { name: "Microsoft Entra ID", behaviour: { refreshWithoutConsent: true }, clientAuth: "client_secret_post", scope: "openid profile email offline_access", provider: (issuer, clientId) => MicrosoftEntraID({ clientId, clientSecret: SECRET, issuer, client: { token_endpoint_auth_method: "client_secret_post" } }), rotates: true, idToken: true },
  { name: "Keycloak (rotation off)", behaviour: { rotateRefreshToken: false, refreshWithoutConsent: true }, clientAuth: "client_secret_basic", scope: "openid profile email", provider: (issuer, clientId) => Keycloak({ clientId, clientSecret: SECRET, issuer }), rotates: false, idToken: true },
  { name: "Keycloak (Revoke Refresh Token on)", behaviour: { refreshWithoutConsent: true }, clientAuth: "client_secret_jwt", scope: "openid profile email", provider: (issuer, clientId) => Keycloak({ clientId, clientSecret: SECRET, issuer, client: { token_endpoint_auth_method: "client_secret_jwt" } }), rotates: true, idToken: true },
  { name: "Auth0", behaviour: {}, clientAuth: "client_secret_post", scope: "openid profile email offline_access", prompt: "consent", provider: (issuer, clientId) => Auth0({ clientId, clientSecret: SECRET, issuer, client: { token_endpoint_auth_method: "client_secret_post" } }), rotates: true, idToken: true },
  { name: "Okta", behaviour: {}, clientAuth: "private_key_jwt", scope: "openid profile email offline_access", prompt: "consent", provider: (issuer, clientId) => Okta({ clientId, issuer, client: { token_endpoint_auth_method: "private_key_jwt" } }), rotates: true, idToken: true },
  { name: "GitHub App (expiring user tokens)", behaviour: { githubStyle: true, refreshWithoutConsent: true }, clientAuth: "client_secret_post", scope: "openid", provider: (_issuer, clientId) => GitHub({ clientId, clientSecret: SECRET }), extra: (issuer) => ({ tokenEndpoint: `${issuer}/token`, clientAuth: "client_secret_post" }), rotates: true, idToken: false },
];

let db: Awaited<ReturnType<typeof freshDatabase>>;
let prisma: ReturnType<typeof import("../../app/_lib/db-client").createPrismaClient>;
let privateJwk: ClientPrivateKey;
let publicJwk: Record<string, unknown>;
before(async () => {
  db = await freshDatabase();
  const { createPrismaClient } = await import("../../app/_lib/db-client");
  prisma = createPrismaClient(db.url);
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  privateJwk = { ...(await crypto.subtle.exportKey("jwk", pair.privateKey)), kid: "okta-key" };
  publicJwk = { ...(await crypto.subtle.exportKey("jwk", pair.publicKey)), kid: "okta-key", alg: "ES256", use: "sig" };
});
after(async () => {
  await prisma.$disconnect();
  await db.drop();
});

/** The authorization-code flow as that provider's app would run it (with its client authentication). */
async function signIn(provider: RunningOidcProvider, profile: Profile, clientId: string, login: string) {
  const issuer = new URL(provider.issuer);
  const as = await o.processDiscoveryResponse(issuer, await o.discoveryRequest(issuer, insecure));
  const client = { client_id: clientId };
  const verifier = o.generateRandomCodeVerifier();
  const authorize = new URL(as.authorization_endpoint!);
  authorize.search = new URLSearchParams({
    client_id: clientId, redirect_uri: REDIRECT, response_type: "code", scope: profile.scope, state: "st", nonce: "nc",
    code_challenge: await o.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", ...(profile.prompt ? { prompt: profile.prompt } : {}),
  }).toString();
  const params = o.validateAuthResponse(as, client, await devLoginAt(authorize, login, REDIRECT), "st");
  const authenticate = clientAuthentication({ clientId, clientSecret: SECRET, clientAuth: profile.clientAuth, clientPrivateKey: privateJwk });
  const response = await o.authorizationCodeGrantRequest(as, client, await authenticate(), params, REDIRECT, verifier, insecure);
  assert.equal(response.status, 200, `${profile.name}: code exchange`);
  return (await response.json()) as { access_token: string; refresh_token?: string; id_token?: string; expires_in: number };
}

describe("provider profiles: Auth.js provider objects, no extra wiring", () => {
  for (const [index, profile] of profiles.entries()) {
    test(profile.name, async (t) => {
      const clientId = `profile-${index}`;
      const provider = await startOidcProvider({
        port: 0,
        behaviour: profile.behaviour,
        clients: [{ clientId, ...(profile.clientAuth === "private_key_jwt" ? { jwks: { keys: [publicJwk] } } : { clientSecret: SECRET }), tokenEndpointAuthMethod: profile.clientAuth, redirectUris: [REDIRECT] }],
      });
      try {
        const login = `user${index}+ttl300@example.com`;
        const tokens = await signIn(provider, profile, clientId, login);
        assert.ok(tokens.refresh_token, "sign-in yields a refresh token the way this provider gives one");
        assert.equal(tokens.id_token !== undefined, profile.idToken);

        const config = profile.provider(provider.issuer, clientId);
        const warnings: string[] = [];
        const oauth = oauthRefresh({
          provider: config,
          vault: prismaTokenVault(prisma),
          ...(profile.clientAuth === "private_key_jwt" ? { clientPrivateKey: privateJwk } : {}),
          timeoutMs: 1000,
          logger: { info() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) },
          ...profile.extra?.(provider.issuer),
        });
        const providerId = config.id;
        const user = await prisma.user.create({ data: { email: `user${index}@example.com`, name: "Profile" } });
        const account = { provider: providerId, type: "oidc" as const, providerAccountId: `sub-${index}`, access_token: tokens.access_token, refresh_token: tokens.refresh_token, id_token: tokens.id_token, expires_at: Math.floor(Date.now() / 1000) + tokens.expires_in };
        await prisma.account.create({ data: { userId: user.id, ...account } });
        const ref = { provider: providerId, providerAccountId: account.providerAccountId };
        let now = Math.floor(Date.now() / 1000);
        const kit = claimsKit({ plugins: [oauth], clock: () => now * 1000 });
        const token = (await kit.callbacks.jwt({ token: { sub: user.id }, user: { id: user.id }, trigger: "signIn", account }))!;
        provider.reset();

        // Three expiry windows; in each, 50 concurrent reads of the expired token.
        now = account.expires_at;
        const refreshTokens = new Set<string>();
        for (let window = 0; window < 3; window++) {
          now += 1;
          const reads = await Promise.all(Array.from({ length: 50 }, () => oauth.accessToken(token, now)));
          assert.ok(reads.every((r) => r && r.accessToken === reads[0]!.accessToken), "every read gets the same new access token");
          assert.equal(provider.stats().refreshGrants, window + 1, "one refresh call per expiry window");
          const row = await prisma.account.findFirstOrThrow({ where: ref });
          refreshTokens.add(row.refresh_token!);
          now = row.expires_at!;
        }
        assert.equal(provider.stats().reuseDetected, 0);
        assert.equal(refreshTokens.size, profile.rotates ? 3 : 1, profile.rotates ? "rotated every time" : "the same refresh token kept (no rotation)");

        // Transient faults: the session and the last good refresh token survive; the next read refreshes.
        const faults: string[] = [];
        for (const mode of ["500", "malformed", "drop", "timeout"] as const) {
          await fetch(`${provider.issuer}/__dev/fault`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode, count: 1 }) });
          const before = await prisma.account.findFirstOrThrow({ where: ref });
          now += 1;
          const failed = await kit.callbacks.jwt({ token: { ...token, oauth: { ...(token.oauth as object), e: now } } });
          const code = (failed?._k as { e?: { oauth?: { code: string } } } | undefined)?.e?.oauth?.code;
          const afterFault = await prisma.account.findFirstOrThrow({ where: ref });
          assert.equal(afterFault.refresh_token, before.refresh_token, `${mode}: the refresh token is kept`);
          assert.equal(await oauth.accessToken(token, now), null, `${mode}: within the back-off, no call and no expired token`);
          const recovered = await oauth.accessToken(token, now + 1);
          assert.ok(recovered, `${mode}: the first read after the back-off refreshes`);
          now = (await prisma.account.findFirstOrThrow({ where: ref })).expires_at!;
          faults.push(`${mode}→${code}`);
        }
        assert.deepEqual(faults, ["500→server_error", "malformed→server_error", "drop→network", "timeout→timeout"]);

        // A refresh token the provider no longer knows: refused (GitHub: HTTP 200 bad_refresh_token), refreshing stops.
        await prisma.account.updateMany({ where: ref, data: { refresh_token: "not-a-live-refresh-token" } });
        const dead = await kit.callbacks.jwt({ token: { ...token, oauth: { ...(token.oauth as object), e: now } } });
        assert.equal((dead?.oauth as { s?: { c: string } }).s?.c, "invalid_grant");
        assert.equal(oauth.isDue(dead!, now + 10), false, "no more refresh calls: sign in again");
        assert.deepEqual(warnings.filter((w) => /token|secret/i.test(w) && /[A-Za-z0-9_-]{30,}/.test(w)), [], "no token values in the log");
        t.diagnostic(`${profile.name}: refresh calls per expiry window with 50 concurrent reads: 1,1,1; rotation: ${profile.rotates}; faults: ${faults.join(", ")}, dead refresh token→invalid_grant`);
      } finally {
        await provider.close();
      }
    });
  }
});
