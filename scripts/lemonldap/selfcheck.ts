// Proves, by real HTTP flows, what the tests may rely on when LemonLDAP::NG is their OpenID
// provider: one line per check, then "selfcheck: N passed, N failed". Exit 0 when all pass,
// 1 when one fails, 3 (one line saying why) when LemonLDAP cannot run here.
//
//   node_modules/.bin/tsx scripts/lemonldap/selfcheck.ts [--keep] [--verbose]
//
// --keep leaves the state directories (logs, sessions) in place; --verbose prints the evidence.
// Token values are never printed.

import { createHash, randomBytes } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";
import { basicAuthSafe, lemonLdapUnavailable, llngSessionsCli, startLemonLdap, type LlngClientOptions, type RunningLemonLdap } from "./llng";
import { CookieJar, LlngLoginError, llngLoginAt, llngLogoutAt, type LlngPage } from "./login";

const APP = "http://localhost:3000";
const CALLBACK = `${APP}/api/auth/callback/oidc`;
const SCOPE = "openid profile email offline_access";

/** The reference app's client: claims from userinfo only (LemonLDAP's default). */
const APP_CLIENT = { clientId: "claims-kit-app", clientSecret: "claims-kit-llng-secret" } as const;
/** Profile claims forced into the id_token; logout without the confirmation page. */
const FORCED_CLIENT = { clientId: "claims-kit-forced", clientSecret: "claims-kit-forced-secret" } as const;
/** Every character RFC 6749's form-encoding changes but a client id may hold. */
const ODD_CLIENT = { clientId: "kit-_.!~*'()", clientSecret: "odd-client-secret-0" } as const;
/** A secret whose Basic credentials base64-encode with "+" or "/", which LemonLDAP cuts off. */
const UNSAFE_CLIENT = { clientId: "claims-kit-unsafe", clientSecret: basicUnsafeSecret("claims-kit-unsafe") } as const;
/** Access tokens that expire while the check waits. */
const SHORT_CLIENT = { clientId: "claims-kit-short", clientSecret: "claims-kit-short-secret" } as const;
const SHORT_TTL = 2;

function basicUnsafeSecret(clientId: string): string {
  // Three "~" (0x7e) in a row always give a 6-bit group of 62 or 63: "+" or "/" in base64.
  for (let i = 0; i < 1000; i += 1) {
    const candidate = `unsafe-secret-${i}~~~`;
    if (!basicAuthSafe(clientId, candidate)) return candidate;
  }
  throw new Error("no Basic-unsafe secret found");
}

const args = new Set(process.argv.slice(2));
const verbose = args.has("--verbose");

// ---------------------------------------------------------------------------------------------
// OAuth helpers (plain fetch: the point is to see exactly what LemonLDAP answers)
// ---------------------------------------------------------------------------------------------

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  revocation_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
  grant_types_supported?: string[];
  backchannel_logout_supported?: boolean;
  acr_values_supported?: string[];
}

interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | undefined;
}

type ClientAuth = "post" | "basic" | "basic-form-encoded";

interface Client {
  clientId: string;
  clientSecret: string;
}

async function http(url: string | URL, init: RequestInit = {}): Promise<HttpResult> {
  const response = await fetch(url, { redirect: "manual", ...init });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    json = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** RFC 6749 2.3.1 form-encoding, as oauth4webapi (Auth.js) applies it to Basic credentials. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/[-_.!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function basic(client: Client, encode: boolean): string {
  const id = encode ? formEncode(client.clientId) : client.clientId;
  const secret = encode ? formEncode(client.clientSecret) : client.clientSecret;
  return `Basic ${Buffer.from(`${id}:${secret}`, "utf8").toString("base64")}`;
}

async function tokenCall(discovery: Discovery, client: Client, auth: ClientAuth, params: Record<string, string>): Promise<HttpResult> {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded", accept: "application/json" };
  if (auth === "post") {
    body.set("client_id", client.clientId);
    body.set("client_secret", client.clientSecret);
  } else {
    headers.authorization = basic(client, auth === "basic-form-encoded");
  }
  return http(discovery.token_endpoint, { method: "POST", headers, body });
}

function refresh(discovery: Discovery, client: Client, refreshToken: string, auth: ClientAuth = "post"): Promise<HttpResult> {
  return tokenCall(discovery, client, auth, { grant_type: "refresh_token", refresh_token: refreshToken });
}

function userinfo(discovery: Discovery, accessToken: string): Promise<HttpResult> {
  return http(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
}

interface Authorization {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

function authorization(discovery: Discovery, client: Client, extra: Record<string, string> = {}): Authorization {
  const verifier = randomBytes(32).toString("base64url");
  const state = randomBytes(12).toString("base64url");
  const nonce = randomBytes(12).toString("base64url");
  const url = new URL(discovery.authorization_endpoint);
  const params = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: CALLBACK,
    response_type: "code",
    scope: SCOPE,
    state,
    nonce,
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    prompt: "consent",
    ...extra,
  });
  // An empty value in `extra` removes the parameter (e.g. `{ prompt: "" }`).
  for (const [key, value] of [...params]) if (value === "") params.delete(key);
  url.search = params.toString();
  return { url, verifier, state, nonce };
}

interface Tokens {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  expires_in?: number;
  scope?: string;
}

interface SignIn {
  tokens: Tokens;
  pages: LlngPage[];
  nonce: string;
  ms: number;
}

/** Authorization code flow through the real login and consent forms, then the code exchange. */
async function signIn(discovery: Discovery, client: Client, login: string, jar: CookieJar, extra: Record<string, string> = {}): Promise<SignIn> {
  const started = performance.now();
  const request = authorization(discovery, client, extra);
  const pages: LlngPage[] = [];
  const callback = await llngLoginAt(request.url, login, CALLBACK, { jar, onForm: (page) => pages.push(page) });
  const error = callback.searchParams.get("error");
  if (error) throw new Error(`authorization answered error=${error} (${callback.searchParams.get("error_description") ?? ""})`);
  if (callback.searchParams.get("state") !== request.state) throw new Error("state mismatch");
  const code = callback.searchParams.get("code");
  if (!code) throw new Error("no code in the callback");
  const result = await tokenCall(discovery, client, "post", { grant_type: "authorization_code", code, redirect_uri: CALLBACK, code_verifier: request.verifier });
  if (result.status !== 200 || typeof result.json?.access_token !== "string" || typeof result.json.id_token !== "string") {
    throw new Error(`code exchange: HTTP ${result.status} ${result.text.slice(0, 200)}`);
  }
  return { tokens: result.json as unknown as Tokens, pages, nonce: request.nonce, ms: Math.round(performance.now() - started) };
}

/** Whether the SSO session `id` (the value of the browser's SSO cookie) still exists. */
function alive(llng: RunningLemonLdap, id: string): boolean {
  return llng.sessions().some((s) => s.kind === "sso" && s.id === id);
}

/** RP-initiated logout as Auth.js's sign-out builds it, followed in the browser `jar`. */
function logout(discovery: Discovery, idToken: string, jar: CookieJar) {
  const endSession = new URL(discovery.end_session_endpoint!);
  endSession.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: `${APP}/`, state: "after-logout" }).toString();
  return llngLogoutAt(endSession, jar, `${APP}/`);
}

function claims(jwt: string): JWTPayload {
  const [, payload = ""] = jwt.split(".");
  return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as JWTPayload;
}

function describe(result: HttpResult): string {
  const challenge = result.headers.get("www-authenticate");
  return `HTTP ${result.status}${challenge ? `, WWW-Authenticate: ${challenge}` : ""}, body ${result.text.trim() || "(empty)"}`;
}

function expect(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

interface Context {
  llng: RunningLemonLdap;
  other: RunningLemonLdap;
  discovery: Discovery;
  jar: CookieJar;
  app?: SignIn;
  refreshed?: Tokens;
}

type Check = [name: string, run: (ctx: Context) => Promise<string>];

function clientOptions(client: Client, more: Partial<LlngClientOptions> = {}): LlngClientOptions {
  return { ...client, redirectUris: [CALLBACK], postLogoutRedirectUris: [`${APP}/`], ...more };
}

const CLIENTS: LlngClientOptions[] = [
  clientOptions(APP_CLIENT, { accessTokenTtl: 30 }),
  clientOptions(FORCED_CLIENT, { idTokenForceClaims: true, logoutBypassConfirm: true }),
  clientOptions(ODD_CLIENT),
  clientOptions(SHORT_CLIENT, { accessTokenTtl: SHORT_TTL }),
  clientOptions(UNSAFE_CLIENT, { allowBasicUnsafeSecret: true }),
];

const checks: Check[] = [
  [
    "discovery",
    async ({ llng, discovery }) => {
      expect(discovery.issuer === llng.issuer, `issuer ${discovery.issuer} != ${llng.issuer}`);
      expect(discovery.backchannel_logout_supported === false, "backchannel_logout_supported is not false");
      return `issuer ${discovery.issuer}; token_endpoint_auth_methods_supported ${JSON.stringify(discovery.token_endpoint_auth_methods_supported)}; grant_types_supported ${JSON.stringify(discovery.grant_types_supported)}; end_session_endpoint ${discovery.end_session_endpoint ? "yes" : "no"}; revocation_endpoint ${discovery.revocation_endpoint ?? "none"}; backchannel_logout_supported false; acr_values_supported ${JSON.stringify(discovery.acr_values_supported)}`;
    },
  ],
  [
    "PKCE required",
    async ({ discovery }) => {
      const request = authorization(discovery, APP_CLIENT);
      request.url.searchParams.delete("code_challenge");
      request.url.searchParams.delete("code_challenge_method");
      const callback = await llngLoginAt(request.url, "dwho", CALLBACK);
      expect(callback.searchParams.get("error") === "invalid_request", `expected error=invalid_request, got ${callback.search}`);
      return `no code_challenge -> redirect with error=invalid_request (${callback.searchParams.get("error_description")}), after the login form`;
    },
  ],
  [
    "wrong password: the login form again, with the portal's message",
    async ({ discovery }) => {
      try {
        await llngLoginAt(authorization(discovery, APP_CLIENT).url, "dwho", CALLBACK, { password: "not-dwho" });
      } catch (error) {
        expect(error instanceof LlngLoginError && error.code === "LLNG_LOGIN_REJECTED", String(error));
        return (error as Error).message;
      }
      throw new Error("the wrong password was accepted");
    },
  ],
  [
    "consent refused: redirect to the client with error=consent_required",
    async ({ discovery }) => {
      const request = authorization(discovery, APP_CLIENT);
      const callback = await llngLoginAt(request.url, "rtyler", CALLBACK, { consent: "refuse" });
      expect(callback.searchParams.get("error") === "consent_required" && callback.searchParams.get("state") === request.state, callback.search);
      return `callback ?${callback.searchParams.toString()}`;
    },
  ],
  [
    "code flow + PKCE + offline_access + prompt=consent issues a refresh token",
    async (ctx) => {
      ctx.app = await signIn(ctx.discovery, APP_CLIENT, "dwho", ctx.jar);
      const { tokens, pages } = ctx.app;
      expect(pages.join(",") === "login,consent", `pages shown: ${pages.join(",")}`);
      expect(typeof tokens.refresh_token === "string", "no refresh_token");
      return `pages ${pages.join(" -> ")}; token response has ${Object.keys(tokens).sort().join(", ")}; expires_in ${tokens.expires_in}; scope "${tokens.scope}" (offline_access not echoed); login+consent+code exchange ${ctx.app.ms} ms`;
    },
  ],
  [
    "id_token (userinfo-only client): signed RS256 by the JWKS, no email/name",
    async ({ discovery, app }) => {
      const idToken = app!.tokens.id_token;
      const { payload, protectedHeader } = await jwtVerify(idToken, createRemoteJWKSet(new URL(discovery.jwks_uri)), { issuer: discovery.issuer, audience: APP_CLIENT.clientId });
      expect(payload.nonce === app!.nonce, "nonce mismatch");
      expect(payload.email === undefined && payload.name === undefined, `id_token has profile claims: ${Object.keys(payload).join(",")}`);
      return `alg ${protectedHeader.alg}, kid ${protectedHeader.kid}; claims ${Object.keys(payload).sort().join(", ")}; aud ${JSON.stringify(payload.aud)}; acr "${String(payload.acr)}"; no amr, no sid`;
    },
  ],
  [
    "id_token with IDTokenForceClaims has email and name (SSO: no login form)",
    async ({ discovery, jar }) => {
      const forced = await signIn(discovery, FORCED_CLIENT, "dwho", jar);
      const payload = claims(forced.tokens.id_token);
      expect(payload.email === "dwho@badwolf.org" && payload.name === "Doctor Who", `email/name missing: ${JSON.stringify(payload)}`);
      expect(payload.email_verified === true, "email_verified is not true");
      return `pages ${forced.pages.join(" -> ")}; email ${String(payload.email)}, name ${String(payload.name)}, email_verified ${String(payload.email_verified)}, preferred_username ${String(payload.preferred_username)}`;
    },
  ],
  [
    "userinfo returns email and name with the access token",
    async ({ discovery, app }) => {
      const result = await userinfo(discovery, app!.tokens.access_token);
      expect(result.status === 200 && result.json?.email === "dwho@badwolf.org" && result.json.name === "Doctor Who", describe(result));
      expect(result.json?.email_verified === true, "email_verified is not boolean true");
      return `HTTP 200 ${JSON.stringify(result.json)}`;
    },
  ],
  [
    "offline_access without prompt=consent: no consent page, no refresh token",
    async ({ discovery, jar }) => {
      const again = await signIn(discovery, APP_CLIENT, "dwho", jar, { prompt: "" });
      expect(again.tokens.refresh_token === undefined, "a refresh token was issued without prompt=consent");
      return `pages ${again.pages.join(" -> ") || "(none: SSO and consent remembered)"}; token response has ${Object.keys(again.tokens).sort().join(", ")}`;
    },
  ],
  [
    "refresh with client_secret_post (claims-kit-app)",
    async (ctx) => {
      const result = await refresh(ctx.discovery, APP_CLIENT, ctx.app!.tokens.refresh_token!);
      expect(result.status === 200 && typeof result.json?.access_token === "string", describe(result));
      ctx.refreshed = result.json as unknown as Tokens;
      expect(ctx.refreshed.access_token !== ctx.app!.tokens.access_token, "same access token");
      return `HTTP 200; response has ${Object.keys(result.json ?? {}).sort().join(", ")} (a new access token and id_token)`;
    },
  ],
  [
    "no refresh-token rotation, no reuse detection",
    async ({ discovery, app, refreshed }) => {
      expect(refreshed!.refresh_token === undefined, "the refresh response carried a refresh_token");
      const reused = await refresh(discovery, APP_CLIENT, app!.tokens.refresh_token!);
      expect(reused.status === 200, `reusing the refresh token: ${describe(reused)}`);
      const parallel = await Promise.all(Array.from({ length: 5 }, () => refresh(discovery, APP_CLIENT, app!.tokens.refresh_token!)));
      const statuses = parallel.map((r) => r.status);
      const distinct = new Set(parallel.map((r) => String(r.json?.access_token))).size;
      expect(statuses.every((s) => s === 200), `parallel refreshes: ${statuses.join(",")}`);
      return `the refresh response has no refresh_token; the same refresh token works again (HTTP 200) and 5 concurrent refreshes with it all answer 200 (${distinct} distinct access tokens): nothing punishes duplicate refreshes, so count them`;
    },
  ],
  [
    "refresh with HTTP Basic, client id and secret not URL-encoded",
    async ({ discovery, app }) => {
      const result = await refresh(discovery, APP_CLIENT, app!.tokens.refresh_token!, "basic");
      expect(result.status === 200, describe(result));
      return `HTTP 200 (Authorization: Basic base64("${APP_CLIENT.clientId}:<secret>"))`;
    },
  ],
  [
    "refresh with HTTP Basic form-encoded as RFC 6749 2.3.1 (oauth4webapi) is refused",
    async ({ discovery, app }) => {
      const result = await refresh(discovery, APP_CLIENT, app!.tokens.refresh_token!, "basic-form-encoded");
      expect(result.status === 401 && result.json?.error === "invalid_client", describe(result));
      return `Basic base64("${formEncode(APP_CLIENT.clientId)}:<form-encoded secret>") -> ${describe(result)}`;
    },
  ],
  [
    "client id with -_.!~*'() characters",
    async ({ discovery }) => {
      const odd = await signIn(discovery, ODD_CLIENT, "rtyler", new CookieJar());
      const refreshToken = odd.tokens.refresh_token!;
      const post = await refresh(discovery, ODD_CLIENT, refreshToken, "post");
      const raw = await refresh(discovery, ODD_CLIENT, refreshToken, "basic");
      const encoded = await refresh(discovery, ODD_CLIENT, refreshToken, "basic-form-encoded");
      expect(post.status === 200 && raw.status === 200 && encoded.status === 401, `post ${post.status}, basic ${raw.status}, form-encoded basic ${encoded.status}`);
      expect(claims(odd.tokens.id_token).aud?.includes(ODD_CLIENT.clientId) === true, "aud lacks the client id");
      return `client_id ${ODD_CLIENT.clientId}: sign-in ok, refresh client_secret_post 200, raw Basic 200, form-encoded Basic 401 (basicAuthSafe: ${basicAuthSafe(ODD_CLIENT.clientId, ODD_CLIENT.clientSecret)})`;
    },
  ],
  [
    "a Basic header whose base64 holds + or / is cut by LemonLDAP",
    async ({ discovery }) => {
      const signedIn = await signIn(discovery, UNSAFE_CLIENT, "rtyler", new CookieJar());
      const post = await refresh(discovery, UNSAFE_CLIENT, signedIn.tokens.refresh_token!, "post");
      const raw = await refresh(discovery, UNSAFE_CLIENT, signedIn.tokens.refresh_token!, "basic");
      expect(post.status === 200 && raw.status === 401, `post ${post.status}, basic ${describe(raw)}`);
      return `secret ${JSON.stringify(UNSAFE_CLIENT.clientSecret)}: client_secret_post 200, correct raw Basic ${describe(raw)}; startLemonLdap() refuses such secrets unless allowBasicUnsafeSecret (basicAuthSafe())`;
    },
  ],
  [
    "userinfo with the refreshed access token",
    async ({ discovery, refreshed }) => {
      const result = await userinfo(discovery, refreshed!.access_token);
      expect(result.status === 200 && result.json?.sub === "dwho", describe(result));
      return `HTTP 200, sub ${String(result.json?.sub)}, email ${String(result.json?.email)}`;
    },
  ],
  [
    `expired access token (TTL ${SHORT_TTL} s): userinfo 401, refresh, userinfo 200`,
    async ({ discovery }) => {
      const short = await signIn(discovery, SHORT_CLIENT, "msmith", new CookieJar());
      expect(short.tokens.expires_in === SHORT_TTL, `expires_in ${short.tokens.expires_in}`);
      const fresh = await userinfo(discovery, short.tokens.access_token);
      await new Promise((resolve) => setTimeout(resolve, (SHORT_TTL + 1.2) * 1000));
      const expired = await userinfo(discovery, short.tokens.access_token);
      const renewed = await refresh(discovery, SHORT_CLIENT, short.tokens.refresh_token!);
      const again = await userinfo(discovery, String(renewed.json?.access_token));
      expect(fresh.status === 200 && expired.status === 401 && renewed.status === 200 && again.status === 200, `${fresh.status}/${expired.status}/${renewed.status}/${again.status}`);
      return `fresh 200; expired -> ${describe(expired)}; refresh 200; new token 200`;
    },
  ],
  [
    "instances are independent (no SSO across ports)",
    async ({ llng, other, jar }) => {
      const otherDiscovery = (await http(`${other.issuer}/.well-known/openid-configuration`)).json as unknown as Discovery;
      const pages: LlngPage[] = [];
      await llngLoginAt(authorization(otherDiscovery, APP_CLIENT).url, "dwho", CALLBACK, { jar, onForm: (page) => pages.push(page) });
      expect(pages[0] === "login", `pages at the second instance: ${pages.join(",")}`);
      expect(llng.cookieName !== other.cookieName && llng.issuer !== other.issuer, "same cookie name or issuer");
      return `second instance ${other.issuer} (cookie ${other.cookieName}) asked the signed-in browser of ${llng.issuer} (cookie ${llng.cookieName}) to log in: ${pages.join(" -> ")}`;
    },
  ],
  [
    "RP-initiated logout ends the SSO session; the browser lands on the portal's login page (2.16.1)",
    async ({ llng, discovery, jar, app }) => {
      const sso = jar.get(llng.cookieName);
      expect(sso !== undefined && alive(llng, sso), "no SSO session before logout");
      const result = await logout(discovery, app!.tokens.id_token, jar);
      const ssoLeft = alive(llng, sso!) ? 1 : 0;
      const pages: LlngPage[] = [];
      await llngLoginAt(authorization(discovery, APP_CLIENT).url, "dwho", CALLBACK, { jar, onForm: (page) => pages.push(page) });
      const offline = await refresh(discovery, APP_CLIENT, app!.tokens.refresh_token!);
      expect(result.confirmed, "no logout confirmation page");
      expect(ssoLeft === 0, `${ssoLeft} SSO session(s) left`);
      expect(result.portalPage === "login" && result.url.href === `${llng.issuer}/oauth2`, `ended at ${result.url.href} (${result.portalPage ?? "no portal form"})`);
      expect(pages[0] === "login", `next sign-in showed ${pages.join(",")}`);
      expect(offline.status === 200, `offline refresh after logout: ${describe(offline)}`);
      return `"Do you want to logout?" page, accepted; then HTTP 302 to ${result.url.pathname} (the stale return URL in the ${llng.cookieName}pdata cookie), not post_logout_redirect_uri: the portal's login page ("Authentication required"); the browser's SSO session is deleted; next sign-in: ${pages.join(" -> ")}; the offline refresh token still refreshes after logout (HTTP ${offline.status})`;
    },
  ],
  [
    "logout with LogoutBypassConfirm: no confirmation page, same landing",
    async ({ llng, discovery }) => {
      const jar = new CookieJar();
      const forced = await signIn(discovery, FORCED_CLIENT, "rtyler", jar);
      const sso = jar.get(llng.cookieName)!;
      const result = await logout(discovery, forced.tokens.id_token, jar);
      const ssoLeft = alive(llng, sso) ? 1 : 0;
      expect(!result.confirmed && ssoLeft === 0 && result.portalPage === "login", `confirmed ${result.confirmed}, SSO left ${ssoLeft}, ended at ${result.url.href}`);
      return `ended at ${result.url.pathname} (login form), the SSO session is deleted`;
    },
  ],
  [
    "fixLogoutRedirect (second instance): the browser goes back to post_logout_redirect_uri",
    async ({ other }) => {
      const discovery = (await http(`${other.issuer}/.well-known/openid-configuration`)).json as unknown as Discovery;
      const jar = new CookieJar();
      const signedIn = await signIn(discovery, APP_CLIENT, "dwho", jar);
      const sso = jar.get(other.cookieName)!;
      const result = await logout(discovery, signedIn.tokens.id_token, jar);
      const ssoLeft = alive(other, sso) ? 1 : 0;
      expect(result.url.origin === new URL(APP).origin && result.url.searchParams.get("state") === "after-logout" && ssoLeft === 0, `ended at ${result.url.href}, SSO left ${ssoLeft}`);
      return `confirmation ${result.confirmed ? "accepted" : "not shown"}; HTTP ${result.status} to ${result.url.href}; the SSO session is deleted`;
    },
  ],
  [
    "lemonldap-ng-sessions delete alone: the refresh token keeps working (portal cache)",
    async ({ llng, discovery }) => {
      const signedIn = await signIn(discovery, APP_CLIENT, "msmith", new CookieJar());
      const refreshToken = signedIn.tokens.refresh_token!;
      const first = await refresh(discovery, APP_CLIENT, refreshToken);
      const cli = llngSessionsCli(llng, ["delete", "--backend", "oidc", "--where", "_session_uid=msmith"]);
      const leftOnDisk = llng.sessions("msmith").filter((s) => s.kind === "offline").length;
      const cached = await refresh(discovery, APP_CLIENT, refreshToken);
      const backOnDisk = llng.sessions("msmith").filter((s) => s.kind === "offline").length;
      expect(first.status === 200 && cli.status === 0 && leftOnDisk === 0, `refresh ${first.status}, CLI exit ${cli.status} ${cli.stderr.trim()}, ${leftOnDisk} left on disk`);
      expect(cached.status === 200, `after the CLI delete: ${describe(cached)}`);
      return `\`lemonldap-ng-sessions delete --backend oidc --where _session_uid=msmith\` removed the session file, yet the refresh answered ${cached.status} (served from Cache::FileCache, 10 min), and that refresh wrote the session back to disk (${backOnDisk} offline session(s) again): delete file and cache entry together`;
    },
  ],
  [
    "endOfflineSessions(user): the next refresh answers 400 invalid_request",
    async ({ llng, discovery }) => {
      const signedIn = await signIn(discovery, APP_CLIENT, "msmith", new CookieJar());
      const first = await refresh(discovery, APP_CLIENT, signedIn.tokens.refresh_token!);
      const deleted = await llng.endOfflineSessions("msmith");
      const after = await refresh(discovery, APP_CLIENT, signedIn.tokens.refresh_token!);
      const info = await userinfo(discovery, String(first.json?.access_token));
      const unknown = await refresh(discovery, APP_CLIENT, "0".repeat(64));
      expect(first.status === 200 && deleted >= 1, `refresh ${first.status}, deleted ${deleted}`);
      expect(after.status === 400 && after.json?.error === "invalid_request", describe(after));
      return `deleted ${deleted}; refresh -> ${describe(after)} (an unknown refresh token answers the same: HTTP ${unknown.status} ${unknown.text.trim()}); userinfo with an access token minted from that session -> HTTP ${info.status}`;
    },
  ],
  [
    "counts(): token calls by grant type and status, userinfo calls",
    async ({ llng, discovery }) => {
      await llng.resetCounts();
      const jar = new CookieJar();
      const signedIn = await signIn(discovery, APP_CLIENT, "rtyler", jar);
      await refresh(discovery, APP_CLIENT, signedIn.tokens.refresh_token!);
      await refresh(discovery, APP_CLIENT, signedIn.tokens.refresh_token!, "basic");
      await refresh(discovery, APP_CLIENT, "no-such-token");
      await userinfo(discovery, signedIn.tokens.access_token);
      await userinfo(discovery, "not-a-token");
      const counts = await llng.counts();
      const byGrant = counts.token.byGrant;
      const ok =
        counts.token.total === 4 &&
        byGrant.authorization_code?.total === 1 &&
        byGrant.refresh_token?.total === 3 &&
        byGrant.refresh_token.byStatus["200"] === 2 &&
        byGrant.refresh_token.byStatus["400"] === 1 &&
        counts.userinfo.byStatus["200"] === 1 &&
        counts.userinfo.byStatus["401"] === 1;
      expect(ok, JSON.stringify(counts));
      const schemes = (await llng.requests()).filter((r) => r.path === "/oauth2/token").map((r) => r.authScheme ?? "-");
      return `token ${JSON.stringify(counts.token.byGrant)}; userinfo ${JSON.stringify(counts.userinfo.byStatus)}; Authorization schemes seen at /oauth2/token: ${schemes.join(",")}`;
    },
  ],
];

// ---------------------------------------------------------------------------------------------
// Runner
// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const why = await lemonLdapUnavailable();
  if (why) {
    console.log(`selfcheck: skipped, ${why}`);
    return 3;
  }
  const keep = args.has("--keep");
  const started = performance.now();
  const [llng, other] = await Promise.all([
    startLemonLdap({ clients: CLIENTS, keepStateDir: keep }),
    startLemonLdap({ clients: CLIENTS, keepStateDir: keep, fixLogoutRedirect: true }),
  ]);
  const startMs = Math.round(performance.now() - started);
  let passed = 0;
  let failed = 0;
  try {
    console.log(`ok   two instances started side by side in ${startMs} ms: ${llng.issuer}, ${other.issuer}`);
    passed += 1;
    const discovery = (await http(`${llng.issuer}/.well-known/openid-configuration`)).json as unknown as Discovery;
    const ctx: Context = { llng, other, discovery, jar: new CookieJar() };
    for (const [name, run] of checks) {
      try {
        const detail = await run(ctx);
        passed += 1;
        console.log(verbose ? `ok   ${name}: ${detail}` : `ok   ${name}`);
      } catch (error) {
        failed += 1;
        console.log(`FAIL ${name}: ${(error as Error).message}`);
      }
    }
  } finally {
    await Promise.all([llng.close(), other.close()]);
    if (keep) console.log(`state kept in ${llng.stateDir} and ${other.stateDir}`);
  }
  console.log(`selfcheck: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.log(`FAIL selfcheck could not run: ${error instanceof Error ? error.message : String(error)}`);
    console.log("selfcheck: 0 passed, 1 failed");
    process.exit(1);
  },
);
