// Security review (attack): the link flow's session check and Auth.js's own cookie read must be
// about the same cookie. Emulates guardedHandlers() exactly (lib/claims-kit/next/server.ts: the
// callbackProvider() test, sessionActive() = decodeRequestCookie() + registry, guardAuthRequest())
// around the real @auth/core Auth() with a fake OIDC provider.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Auth, customFetch, type AuthConfig } from "@auth/core";
import { encode, getToken } from "@auth/core/jwt";
import type { Adapter, AdapterAccount, AdapterUser } from "@auth/core/adapters";
import { guardAuthRequest, linkSessionCookie } from "@/lib/claims-kit/next/internal/route-guard";

const SECRET = "attack-test-secret-attack-test-secret-0123456789";
const APP = "http://app.test"; // Auth.js over http: dev, or behind a proxy without AUTH_URL=https://…
const IDP = "https://idp.test";
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

function memoryAdapter() {
  const users = new Map<string, AdapterUser>([
    ["attacker", { id: "attacker", email: "mallory@example.com", emailVerified: null }],
    ["victim", { id: "victim", email: "alice@example.com", emailVerified: null }],
  ]);
  const links: AdapterAccount[] = [];
  const adapter: Adapter = {
    createUser: async (u) => u,
    getUser: async (id) => users.get(id) ?? null,
    getUserByEmail: async (email) => [...users.values()].find((u) => u.email === email) ?? null,
    getUserByAccount: async ({ provider, providerAccountId }) => {
      const a = links.find((l) => l.provider === provider && l.providerAccountId === providerAccountId);
      return a ? (users.get(a.userId) ?? null) : null;
    },
    updateUser: async (u) => ({ ...users.get(u.id!)!, ...u }),
    linkAccount: async (a) => void links.push(a),
  };
  return { adapter, links };
}

/** A fake OIDC provider: discovery and a token endpoint that hands out the attacker's "work" identity. */
const idpFetch = (async (url: string | URL) => {
  const u = String(url);
  if (u.endsWith("/.well-known/openid-configuration")) {
    return Response.json({ issuer: IDP, authorization_endpoint: `${IDP}/auth`, token_endpoint: `${IDP}/token`, userinfo_endpoint: `${IDP}/me`, jwks_uri: `${IDP}/jwks` });
  }
  const now = Math.floor(Date.now() / 1000);
  const id_token = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: IDP, aud: "app", sub: "mallory-at-work", iat: now, exp: now + 600 })}.c2ln`;
  return Response.json({ access_token: "at", token_type: "Bearer", expires_in: 600, id_token });
}) as typeof fetch;

describe("attack: linking a provider through guardedHandlers()", () => {
  test("over http the guard checks the plain cookie Auth.js links with, and strips the __Secure- one: a revoked stolen cookie links nothing (review: link guard)", async () => {
    const { adapter, links } = memoryAdapter();
    const config: AuthConfig = {
      adapter, secret: SECRET, trustHost: true, basePath: "/api/auth", session: { strategy: "jwt" },
      providers: [{ id: "work", name: "Work", type: "oidc", issuer: IDP, clientId: "app", clientSecret: "s", [customFetch]: idpFetch } as never],
    };
    // The registry: the attacker's own session is active, the stolen one of the victim is revoked.
    const active = new Set(["attacker"]);

    // What guardedHandlers(handlers, { link: { providers: ["work"], sessionActive } }) does.
    async function guarded(request: Request): Promise<{ response: Response; checked: string | null }> {
      // guardedHandlers() in lib/claims-kit/next/server.ts, with sessionActive(name) = decode that cookie + registry.
      const name = linkSessionCookie(request, { providers: ["work"] });
      let checked: string | null = null;
      if (name) {
        const token = await getToken({ req: { headers: request.headers }, secret: SECRET, secureCookie: name.startsWith("__Secure-"), cookieName: name, salt: name }).catch(() => null);
        checked = typeof token?.sub === "string" ? token.sub : null;
      }
      const keepSession = name && checked !== null && active.has(checked) ? name : undefined;
      const { request: safe } = guardAuthRequest(request, { keepSession });
      return { response: await Auth(safe, config), checked };
    }

    // The attacker starts a "work" sign-in from their own client (csrf, then the signin POST: pkce cookie).
    const jar = new Map<string, string>();
    const keep = (r: Response) => {
      for (const c of r.headers.getSetCookie()) jar.set(c.slice(0, c.indexOf("=")), c.slice(c.indexOf("=") + 1, c.indexOf(";")));
    };
    const header = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const csrf = await Auth(new Request(`${APP}/api/auth/csrf`), config);
    keep(csrf);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const signin = await Auth(new Request(`${APP}/api/auth/signin/work`, { method: "POST", headers: { cookie: header(), "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken }) }), config);
    keep(signin);
    assert.match(signin.headers.get("location") ?? "", /^https:\/\/idp\.test\/auth/);

    // Their own (active) session under the __Secure- name, the victim's stolen, revoked one under the plain name.
    jar.set("__Secure-authjs.session-token", await encode({ token: { sub: "attacker" }, secret: SECRET, salt: "__Secure-authjs.session-token" }));
    jar.set("authjs.session-token", await encode({ token: { sub: "victim" }, secret: SECRET, salt: "authjs.session-token" }));

    const { response, checked } = await guarded(new Request(`${APP}/api/auth/callback/work?code=c1`, { headers: { cookie: header() } }));
    assert.equal(checked, "victim", "the guard checks the cookie Auth.js reads over http: the stolen, revoked one");
    assert.equal(response.status, 302);
    // Auth.js also issued a fresh session cookie: for whom?
    const issued = response.headers.getSetCookie().find((c) => c.startsWith("authjs.session-token="));
    const issuedFor = issued ? (await getToken({ req: { headers: new Headers({ cookie: issued.split(";")[0] ?? "" }) }, secret: SECRET, secureCookie: false }))?.sub : null;
    assert.ok(links.every((l) => l.userId !== "victim"), "nothing is linked to the victim");
    assert.notEqual(issuedFor, "victim", "and no session is issued for the victim");
  });
});
