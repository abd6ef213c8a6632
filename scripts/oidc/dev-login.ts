// Drives the dev provider's authorization_code + PKCE flow without a browser: fetches the
// authorization endpoint, fills oidc-provider's devInteractions login form (`login`/`password`)
// and consent form, follows the redirects with a small cookie jar, then redeems the code.
// For integration tests. Never logs token values.

import { createHash, randomBytes } from "node:crypto";

export interface DevAuthorizationCodeFlowOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  login: string;
  /** Defaults to "openid profile email". */
  scope?: string;
  /** Sent as the `prompt` parameter when set (e.g. "consent" to be granted offline_access). */
  prompt?: string;
}

export interface DevTokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
  token_type?: string;
  scope?: string;
}

export interface DevTokenEndpointResult {
  status: number;
  /** Parsed JSON body, or undefined when the body was not JSON. */
  body: Record<string, unknown> | undefined;
}

interface Endpoints {
  authorization_endpoint: string;
  token_endpoint: string;
}

/** A minimal cookie jar: enough for the provider's and Auth.js's cookies in tests. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expired = value === "";
      for (const attribute of attributes) {
        const [key = "", raw = ""] = attribute.split("=");
        const attr = key.trim().toLowerCase();
        if (attr === "max-age" && Number(raw) <= 0) expired = true;
        if (attr === "expires" && Date.parse(raw) <= Date.now()) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  names(): string[] {
    return [...this.cookies.keys()];
  }
}

function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`, "i").exec(tag);
  return match?.[1] === undefined ? undefined : decodeEntities(match[1]);
}

/** The first POST form of a devInteractions page: its action and its named inputs. */
function parseForm(html: string): { action: string; fields: Map<string, string> } | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html);
  const [, formAttributes = "", formBody = ""] = form ?? [];
  if (!form) return undefined;
  const action = attribute(formAttributes, "action");
  if (!action) return undefined;
  const fields = new Map<string, string>();
  for (const input of formBody.match(/<input\b[^>]*>/gi) ?? []) {
    const name = attribute(input, "name");
    if (name) fields.set(name, attribute(input, "value") ?? "");
  }
  return { action, fields };
}

function basicAuth(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString("base64")}`;
}

async function discover(issuer: string): Promise<Endpoints> {
  const response = await fetch(`${issuer}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`discovery failed: HTTP ${response.status}`);
  const metadata = (await response.json()) as Partial<Endpoints>;
  if (!metadata.authorization_endpoint || !metadata.token_endpoint) {
    throw new Error("discovery document lacks authorization_endpoint or token_endpoint");
  }
  return {
    authorization_endpoint: metadata.authorization_endpoint,
    token_endpoint: metadata.token_endpoint,
  };
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function matchesRedirectUri(candidate: URL, redirectUri: string): boolean {
  const expected = new URL(redirectUri);
  return candidate.origin === expected.origin && candidate.pathname === expected.pathname;
}

async function postToken(
  issuer: string,
  clientId: string,
  clientSecret: string,
  params: Record<string, string>,
  tokenEndpoint?: string,
): Promise<DevTokenEndpointResult> {
  const endpoint = tokenEndpoint ?? (await discover(issuer)).token_endpoint;
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      authorization: basicAuth(clientId, clientSecret),
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
    },
    body: new URLSearchParams(params),
  });
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    body = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

function toTokenResponse(result: DevTokenEndpointResult): DevTokenResponse {
  const body = result.body;
  if (result.status !== 200 || !body || typeof body.access_token !== "string") {
    const error = typeof body?.error === "string" ? body.error : "unknown_error";
    const description = typeof body?.error_description === "string" ? `: ${body.error_description}` : "";
    throw new Error(`token endpoint answered HTTP ${result.status} ${error}${description}`);
  }
  const optionalString = (key: string): string | undefined => {
    const value = body[key];
    return typeof value === "string" ? value : undefined;
  };
  return {
    access_token: body.access_token,
    refresh_token: optionalString("refresh_token"),
    id_token: optionalString("id_token"),
    expires_in: typeof body.expires_in === "number" ? body.expires_in : undefined,
    token_type: optionalString("token_type"),
    scope: optionalString("scope"),
  };
}

/**
 * Signs `login` in at the dev provider and redeems the authorization code.
 * Each call uses its own cookie jar, i.e. a fresh browser.
 */
export async function devAuthorizationCodeFlow(
  opts: DevAuthorizationCodeFlowOptions,
): Promise<DevTokenResponse> {
  const endpoints = await discover(opts.issuer);
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(16).toString("base64url");
  const nonce = randomBytes(16).toString("base64url");

  const authorize = new URL(endpoints.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: opts.clientId,
    redirect_uri: opts.redirectUri,
    response_type: "code",
    scope: opts.scope ?? "openid profile email",
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
    ...(opts.prompt ? { prompt: opts.prompt } : {}),
  }).toString();

  const next = await devLoginAt(authorize, opts.login, opts.redirectUri);
  const error = next.searchParams.get("error");
  if (error) {
    const description = next.searchParams.get("error_description");
    throw new Error(`authorization failed: ${error}${description ? `: ${description}` : ""}`);
  }
  if (next.searchParams.get("state") !== state) throw new Error("state mismatch");
  const code = next.searchParams.get("code");
  if (!code) throw new Error("redirect to the client carried no code");
  const result = await postToken(
    opts.issuer,
    opts.clientId,
    opts.clientSecret,
    { grant_type: "authorization_code", code, redirect_uri: opts.redirectUri, code_verifier: verifier },
    endpoints.token_endpoint,
  );
  return toTokenResponse(result);
}

/** Options of {@link devLoginAt}. */
export interface DevLoginOptions {
  /** The provider's cookies (its browser session): pass the same jar to sign in as one browser. */
  jar?: CookieJar;
  /** More login-form fields, e.g. `{ otp: "123456" }` for a step-up login. */
  fields?: Record<string, string>;
  /** Called with the path of every form page the provider showed ("login" or "consent"). */
  onForm?: (kind: "login" | "consent") => void;
}

/**
 * Drives the provider's login and consent pages from an authorization URL (built by any client,
 * e.g. Auth.js) until the provider redirects to `redirectUri`; returns that redirect URL, with its
 * `code` and `state` (or `error`) for the client to handle. Each call is a fresh browser unless `options.jar` is given.
 */
export async function devLoginAt(authorize: URL, login: string, redirectUri: string, options: DevLoginOptions = {}): Promise<URL> {
  const jar = options.jar ?? new CookieJar();
  let url = authorize;
  let method: "GET" | "POST" = "GET";
  let body: URLSearchParams | undefined;

  for (let step = 0; step < 20; step += 1) {
    const response = await fetch(url, {
      method,
      redirect: "manual",
      headers: {
        cookie: jar.header(),
        accept: "text/html",
        ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      body,
    });
    jar.store(response);

    if (isRedirect(response.status)) {
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (!location) throw new Error(`redirect without location from ${url.pathname}`);
      const next = new URL(location, url);
      if (matchesRedirectUri(next, redirectUri)) return next;
      url = next;
      method = "GET";
      body = undefined;
      continue;
    }

    const html = await response.text();
    if (response.status !== 200) {
      throw new Error(`unexpected HTTP ${response.status} from ${url.pathname}`);
    }
    const form = parseForm(html);
    if (!form) throw new Error(`no form found on ${url.pathname}`);
    if (form.fields.has("login")) {
      form.fields.set("login", login);
      form.fields.set("password", "dev-password");
      for (const [name, value] of Object.entries(options.fields ?? {})) if (form.fields.has(name)) form.fields.set(name, value);
    }
    options.onForm?.(form.fields.has("login") ? "login" : "consent");
    url = new URL(form.action, url);
    method = "POST";
    body = new URLSearchParams([...form.fields]);
  }

  throw new Error("authorization flow did not reach the redirect_uri within 20 steps");
}

/** One refresh_token grant; returns the raw status and JSON body (errors are not thrown). */
export async function devRefreshTokenGrant(opts: {
  issuer: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}): Promise<DevTokenEndpointResult> {
  return postToken(opts.issuer, opts.clientId, opts.clientSecret, {
    grant_type: "refresh_token",
    refresh_token: opts.refreshToken,
  });
}
