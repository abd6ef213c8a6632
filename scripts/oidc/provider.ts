// A real OpenID Connect provider (oidc-provider@9) for development and tests.
//
// - issuer http://<host>:<port> (no trailing slash), PKCE required, refresh-token rotation with
//   oidc-provider's reuse detection (a consumed refresh token presented again -> invalid_grant and
//   the whole grant is revoked).
// - Any login is accepted (devInteractions). Tags in the login's local part shape the account:
//   `alice+ttl5@example.com` -> access tokens live 5 s, `alice+big` -> a very large profile.
// - /__dev/stats, /__dev/reset and /__dev/fault are served by the same HTTP server for tests.
//
// Never log token values or secrets from here.

import { generateKeyPairSync, randomBytes } from "node:crypto";
import {
  createServer,
  IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";

import Provider, {
  type Account,
  type Adapter,
  type AdapterPayload,
  type ClaimsResult,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
  type OIDCProviderError,
} from "oidc-provider";
import { backchannelClientMetadata, devBackchannel } from "./backchannel";
import { devSsfTransmitter, type SsfTransmitterConfig } from "./ssf-transmitter";
import { handleStepUpInteraction, stepUpClientMetadata, stepUpConfiguration } from "./step-up";

const WEB_FONT_IMPORT = "@import url(https://fonts.googleapis.com/css?family=Roboto:400,100);";

/**
 * devInteractions' login and consent pages import a Google web font. Nothing outside this machine
 * may be fetched (and a sign-in page should not leak to a font CDN): blank the import out with
 * spaces of the same length, so Content-Length stays right.
 */
function stripWebFonts(res: ServerResponse): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  const blank = " ".repeat(WEB_FONT_IMPORT.length);
  res.end = ((...args: unknown[]) => {
    const [chunk] = args;
    if (typeof chunk === "string" && chunk.includes(WEB_FONT_IMPORT)) args[0] = chunk.replaceAll(WEB_FONT_IMPORT, blank);
    else if (Buffer.isBuffer(chunk) && chunk.includes(WEB_FONT_IMPORT)) args[0] = Buffer.from(chunk.toString("utf8").replaceAll(WEB_FONT_IMPORT, blank), "utf8");
    return end(...args);
  }) as typeof res.end;
}

export interface ProviderStats {
  /** Token-endpoint calls answered by oidc-provider (any grant type, success or error). */
  tokenRequests: number;
  /** Token-endpoint calls with grant_type=refresh_token answered by oidc-provider. */
  refreshGrants: number;
  refreshSuccess: number;
  refreshErrors: number;
  /** Refresh-token grants rejected because the token had already been used (grant revoked). */
  reuseDetected: number;
  /** Token-endpoint calls with grant_type=authorization_code (success or error). */
  authorizationCodeGrants: number;
  /** Successful calls to the revocation endpoint. */
  revocations: number;
  /** Grants revoked by oidc-provider (reuse detection, revocation endpoint, RP-initiated logout). */
  grantsRevoked: number;
  /** Refresh-token requests answered by an injected fault (not counted in refreshGrants). */
  faultsInjected: number;
}

/**
 * What the token endpoint answers refresh_token grants with while a fault is set (test-only; the
 * provider is as strict as oidc-provider's defaults otherwise):
 * - `500`, `503` (with Retry-After when `retryAfter` is given), `429` (Retry-After: `retryAfter`, default 30);
 * - `timeout` (no answer), `drop` (connection closed), `malformed` (truncated JSON);
 * - `invalid_grant` (400); `invalid_client`: 401 with a bare `WWW-Authenticate: Basic` challenge
 *   and an `invalid_client` body (RFC 6749 5.2, as LemonLDAP::NG answers a wrong secret);
 *   `invalid_request`: 400 (as LemonLDAP::NG answers an unknown refresh token).
 */
export type FaultMode = "none" | "500" | "503" | "429" | "timeout" | "drop" | "malformed" | "invalid_grant" | "invalid_client" | "invalid_request";

export interface OidcClientConfig {
  clientId: string;
  /** Absent for a public client (`none`) or a `private_key_jwt` client. */
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Where logout tokens are POSTed (OIDC Back-Channel Logout); the id_token then carries `sid`. */
  backchannelLogoutUri?: string;
  /** Default client_secret_basic (oidc-provider then takes client_secret_post too). */
  tokenEndpointAuthMethod?: "client_secret_basic" | "client_secret_post" | "client_secret_jwt" | "private_key_jwt" | "none";
  /** The client's public keys, for private_key_jwt. */
  jwks?: { keys: Array<Record<string, unknown>> };
}

/**
 * Answer the way a given real provider does, for the provider-profile tests. Defaults are
 * oidc-provider's (rotation with reuse detection; offline_access only with prompt=consent).
 */
export interface ProviderBehaviour {
  /** false: the refresh token is kept across refreshes (Google; Keycloak with rotation off). */
  rotateRefreshToken?: boolean;
  /** A refresh token for any grant of a client allowed the refresh_token grant, no consent prompt needed (Entra, Keycloak). */
  refreshWithoutConsent?: boolean;
  /**
   * GitHub Apps' token endpoint: no id_token, `refresh_token_expires_in`, and a refused refresh
   * token answered with HTTP 200 and `{"error":"bad_refresh_token"}`.
   */
  githubStyle?: boolean;
  /**
   * Compare Basic client credentials as sent, without URL-decoding them, as LemonLDAP::NG 2.16
   * does: `claims%2Dkit%2Dapp` is then another client than `claims-kit-app`. oidc-provider itself
   * decodes them (RFC 6749 2.3.1), so both encodings of `-_.!~*'()` pass without this switch.
   */
  literalBasicCredentials?: boolean;
  /**
   * oidc-provider's default `conformIdTokenClaims`: when an access token is issued too, the
   * id_token carries only `sub` (and acr/amr), and the scope's claims (email, name…) come from
   * userinfo only, as LemonLDAP::NG and Okta's org authorization server answer.
   */
  thinIdToken?: boolean;
}

export interface StartOidcProviderOptions {
  /** 0 picks a free port; the issuer uses the port actually bound. */
  port: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  clients: OidcClientConfig[];
  logger?: (line: string) => void;
  behaviour?: ProviderBehaviour;
  /** A Shared Signals transmitter (scripts/oidc/ssf-transmitter.ts) at this issuer; `clientId` defaults to the first client's. */
  ssf?: Omit<SsfTransmitterConfig, "clientId"> & { clientId?: string };
}

export interface RunningOidcProvider {
  issuer: string;
  stats(): ProviderStats;
  reset(): void;
  close(): Promise<void>;
}

const FAULT_MODES: ReadonlySet<string> = new Set<FaultMode>([
  "none",
  "500",
  "503",
  "429",
  "timeout",
  "drop",
  "malformed",
  "invalid_grant",
  "invalid_client",
  "invalid_request",
]);

const TOKEN_PATH = "/token";
const DEFAULT_ACCESS_TOKEN_TTL = 3600;
const MAX_ACCESS_TOKEN_TTL = 86_400;
const MAX_DEV_BODY = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Accounts derived from the login string
// ---------------------------------------------------------------------------------------------

export interface DevProfile {
  /** Stable subject: the email without tags. */
  sub: string;
  email: string;
  /** False for a `+unverified` login: then `sub` differs from the verified address's. */
  emailVerified: boolean;
  name: string;
  preferredUsername: string;
  groups: string[];
  /** Access-token lifetime in seconds for this login. */
  accessTokenTtl: number;
  big: boolean;
}

function capitalise(value: string): string {
  return value.charAt(0).toUpperCase() + value.slice(1);
}

/**
 * Parses a dev login such as `Alice+ttl5@Example.com` or `bob+big`.
 * Tags are the `+tag` parts of the local part; they never reach the email or `sub`.
 */
export function parseDevLogin(login: string): DevProfile {
  // Tags and the subject are case-insensitive; the email keeps the case typed, as real providers
  // do (so tests can present `Alice@example.com` to an app that has `alice@example.com`).
  const typed = login.trim();
  const at = typed.lastIndexOf("@");
  const typedLocal = at === -1 ? typed : typed.slice(0, at);
  const typedDomain = at === -1 ? "example.com" : typed.slice(at + 1) || "example.com";
  const [typedBase = "", ...typedTags] = typedLocal.split("+");
  const tags = typedTags.map((t) => t.toLowerCase());
  const user = typedBase.toLowerCase() || "user";

  let accessTokenTtl = DEFAULT_ACCESS_TOKEN_TTL;
  let big = false;
  let verified = true;
  for (const tag of tags) {
    const ttl = /^ttl(\d+)$/.exec(tag);
    if (ttl) {
      const seconds = Number(ttl[1]);
      if (Number.isSafeInteger(seconds) && seconds >= 1 && seconds <= MAX_ACCESS_TOKEN_TTL) {
        accessTokenTtl = seconds;
      }
    } else if (tag === "big") {
      big = true;
    } else if (tag === "unverified") {
      verified = false;
    }
  }

  const email = `${typedBase || "user"}@${typedDomain}`;
  const subject = email.toLowerCase();
  let name = capitalise(user);
  let groups = ["users"];
  if (big) {
    groups = Array.from(
      { length: 120 },
      (_, i) => `engineering-platform-team-${String(i + 1).padStart(3, "0")}-long-name`,
    );
    const filler = " Longname-Padding-For-Cookie-Size-Tests";
    while (name.length < 300) name += filler;
    name = name.slice(0, 300);
  }

  // An unverified address is another identity at the provider that merely claims this email.
  return { sub: verified ? subject : `${subject}#unverified`, email, emailVerified: verified, name, preferredUsername: user, groups, accessTokenTtl, big };
}

function devAccount(id: string): Account | undefined {
  if (id.trim().length === 0) return undefined;
  const profile = parseDevLogin(id);
  return {
    // The accountId must stay exactly what the session holds (the login as typed): oidc-provider
    // compares grant.accountId with the account's accountId and fails on any difference.
    accountId: id,
    claims(): ClaimsResult {
      return {
        sub: profile.sub, // oidc-provider overrides this with accountId; see pairwiseIdentifier.
        email: profile.email,
        email_verified: profile.emailVerified,
        name: profile.name,
        preferred_username: profile.preferredUsername,
        groups: profile.groups,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// In-memory storage (per provider instance, no LRU eviction)
// ---------------------------------------------------------------------------------------------

interface StoredEntry {
  payload: AdapterPayload;
  expiresAt: number;
}

const GRANTABLE = new Set([
  "AccessToken",
  "AuthorizationCode",
  "RefreshToken",
  "DeviceCode",
  "BackchannelAuthenticationRequest",
  "PreAuthorizedCode",
]);

class DevStore {
  private readonly entries = new Map<string, StoredEntry>();
  private readonly grantMembers = new Map<string, Set<string>>();
  private readonly secondary = new Map<string, string>();
  private writes = 0;

  get(key: string): AdapterPayload | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(key: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    this.delete(key);
    const expiresAt = typeof expiresIn === "number" ? Date.now() + expiresIn * 1000 : Infinity;
    this.entries.set(key, { payload, expiresAt });
    const model = key.slice(0, key.indexOf(":"));
    if (GRANTABLE.has(model) && typeof payload.grantId === "string") {
      let members = this.grantMembers.get(payload.grantId);
      if (!members) {
        members = new Set();
        this.grantMembers.set(payload.grantId, members);
      }
      members.add(key);
    }
    if (model === "Session" && typeof payload.uid === "string") {
      this.secondary.set(`sessionUid:${payload.uid}`, key);
    }
    if (typeof payload.userCode === "string") {
      this.secondary.set(`userCode:${payload.userCode}`, key);
    }
    this.writes += 1;
    if (this.writes % 500 === 0) this.sweep();
  }

  lookup(secondaryKey: string): AdapterPayload | undefined {
    const key = this.secondary.get(secondaryKey);
    return key === undefined ? undefined : this.get(key);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    const { grantId, uid, userCode } = entry.payload;
    if (typeof grantId === "string") {
      const members = this.grantMembers.get(grantId);
      members?.delete(key);
      if (members?.size === 0) this.grantMembers.delete(grantId);
    }
    for (const secondaryKey of [`sessionUid:${String(uid)}`, `userCode:${String(userCode)}`]) {
      if (this.secondary.get(secondaryKey) === key) this.secondary.delete(secondaryKey);
    }
  }

  revokeGrant(grantId: string): void {
    const members = this.grantMembers.get(grantId);
    if (!members) return;
    for (const key of [...members]) this.delete(key);
    this.grantMembers.delete(grantId);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.delete(key);
    }
  }
}

class DevAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: DevStore,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    this.store.set(this.key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.store.get(this.key(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.store.lookup(`sessionUid:${uid}`);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.store.lookup(`userCode:${userCode}`);
  }

  async consume(id: string): Promise<void> {
    const payload = this.store.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.store.delete(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.store.revokeGrant(grantId);
  }
}

// ---------------------------------------------------------------------------------------------
// Small HTML pages (the defaults import Google Fonts, which an offline browser waits on)
// ---------------------------------------------------------------------------------------------

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 32rem; margin: 2rem auto">
<h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

function zeroStats(): ProviderStats {
  return {
    tokenRequests: 0,
    refreshGrants: 0,
    refreshSuccess: 0,
    refreshErrors: 0,
    reuseDetected: 0,
    authorizationCodeGrants: 0,
    revocations: 0,
    grantsRevoked: 0,
    faultsInjected: 0,
  };
}

function devSigningKeys(): { keys: Array<{ kty: string; [key: string]: unknown }> } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = privateKey.export({ format: "jwk" });
  return {
    keys: [{ ...jwk, kty: jwk.kty ?? "RSA", kid: randomBytes(8).toString("hex"), use: "sig", alg: "RS256" }],
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_DEV_BODY) throw new Error("request body too large");
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** A fresh, readable copy of an already-consumed request, for handing on to oidc-provider. */
function replayRequest(original: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(original.socket);
  copy.method = original.method;
  copy.url = original.url;
  copy.headers = original.headers;
  copy.rawHeaders = original.rawHeaders;
  copy.httpVersion = original.httpVersion;
  copy.httpVersionMajor = original.httpVersionMajor;
  copy.httpVersionMinor = original.httpVersionMinor;
  copy.complete = true;
  copy.push(body);
  copy.push(null);
  return copy;
}

function describeGrantType(ctx: KoaContextWithOIDC): string {
  const value = ctx.oidc?.params?.grant_type;
  return typeof value === "string" && /^[\w:.-]{1,100}$/.test(value) ? value : "unknown";
}

function describeClient(ctx: KoaContextWithOIDC): string {
  const id = ctx.oidc?.client?.clientId;
  return typeof id === "string" ? id : "unknown";
}

/**
 * Make oidc-provider see Basic credentials exactly as sent (see
 * {@link ProviderBehaviour.literalBasicCredentials}): each part is percent-encoded once more, so
 * its own URL-decoding gives back the literal text.
 */
function literalBasicCredentials(req: IncomingMessage): void {
  const match = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!match) return;
  const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return;
  const literal = (part: string) => encodeURIComponent(part);
  req.headers.authorization = `Basic ${Buffer.from(`${literal(decoded.slice(0, colon))}:${literal(decoded.slice(colon + 1))}`).toString("base64")}`;
}

/** Rewrite a token-endpoint answer the way GitHub's looks (see {@link ProviderBehaviour.githubStyle}). */
function answerLikeGitHub(res: ServerResponse): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.end = ((...args: unknown[]) => {
    const [chunk] = args;
    const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : undefined;
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    if (body && !res.headersSent) {
      if (body.error === "invalid_grant") {
        body = { error: "bad_refresh_token", error_description: "The refresh token passed is incorrect or expired." };
        res.statusCode = 200;
      } else if (typeof body.access_token === "string") {
        delete body.id_token;
        body.refresh_token_expires_in = 15_897_600;
      }
      args[0] = JSON.stringify(body);
      res.setHeader("content-length", Buffer.byteLength(args[0] as string));
    }
    return end(...args);
  }) as typeof res.end;
}

export async function startOidcProvider(
  opts: StartOidcProviderOptions,
): Promise<RunningOidcProvider> {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.logger ?? (() => {});
  // Back-channel logout and step-up (scripts/oidc/backchannel.ts, step-up.ts).
  const idp = devBackchannel({ subjectOf: (accountId) => parseDevLogin(accountId).sub, log });
  const interactionHelpers = {
    readBody,
    forward: (req: IncomingMessage, body: Buffer, res: ServerResponse) => handleProvider!(replayRequest(req, body), res),
    page,
    escapeHtml,
  };
  const ssf = opts.ssf
    ? devSsfTransmitter({
        config: { ...opts.ssf, clientId: opts.ssf.clientId ?? opts.clients[0]!.clientId },
        subjectOf: (login) => parseDevLogin(login).sub,
        emailOf: (login) => parseDevLogin(login).email,
        liveSessions: () => idp.liveSessions(),
        page,
        escapeHtml,
        log,
      })
    : undefined;
  let stats = zeroStats();
  let fault: { mode: Exclude<FaultMode, "none">; remaining: number; retryAfter?: number } | undefined;
  const heldSockets = new Set<Socket>();
  // eslint-disable-next-line prefer-const -- assigned once the provider exists, after the server is set up
  let handleProvider: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;

  async function handleFault(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!fault || fault.remaining <= 0) return false;
    const body = await readBody(req);
    const grantType = new URLSearchParams(body.toString("utf8")).get("grant_type");
    if (grantType !== "refresh_token" || !fault || fault.remaining <= 0) {
      await handleProvider?.(replayRequest(req, body), res);
      return true;
    }
    const { mode, retryAfter } = fault;
    fault.remaining -= 1;
    if (fault.remaining <= 0) fault = undefined;
    stats.faultsInjected += 1;
    log(`token grant_type=refresh_token result=fault:${mode}`);
    switch (mode) {
      case "500":
        sendJson(res, 500, { error: "server_error", error_description: "injected fault" });
        break;
      case "503":
        sendJson(res, 503, { error: "temporarily_unavailable", error_description: "injected fault" }, retryAfter === undefined ? {} : { "retry-after": String(retryAfter) });
        break;
      case "429":
        sendJson(res, 429, { error: "slow_down", error_description: "injected fault" }, { "retry-after": String(retryAfter ?? 30) });
        break;
      case "invalid_grant":
        sendJson(res, 400, { error: "invalid_grant" });
        break;
      case "invalid_client":
        sendJson(res, 401, { error: "invalid_client", error_description: "injected fault" }, { "www-authenticate": "Basic" });
        break;
      case "invalid_request":
        sendJson(res, 400, { error: "invalid_request", error_description: "injected fault" });
        break;
      case "malformed": {
        const text = '{"access_token": "injected-malformed", "token_type": ';
        res.writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-length": Buffer.byteLength(text),
          "cache-control": "no-store",
        });
        res.end(text);
        break;
      }
      case "drop":
        req.socket.destroy();
        break;
      case "timeout": {
        const socket = req.socket;
        heldSockets.add(socket);
        socket.once("close", () => heldSockets.delete(socket));
        break;
      }
    }
    return true;
  }

  async function handleDev(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (path === "/__dev/stats" && req.method === "GET") {
      sendJson(res, 200, stats);
      return;
    }
    if (path === "/__dev/reset" && req.method === "POST") {
      stats = zeroStats();
      sendJson(res, 200, stats);
      return;
    }
    if (path === "/__dev/fault" && req.method === "GET") {
      sendJson(res, 200, fault ?? { mode: "none", remaining: 0 });
      return;
    }
    if (path === "/__dev/fault" && req.method === "POST") {
      let input: unknown;
      try {
        const text = (await readBody(req)).toString("utf8");
        input = text.trim() === "" ? {} : JSON.parse(text);
      } catch {
        sendJson(res, 400, { error: "body must be JSON" });
        return;
      }
      if (typeof input !== "object" || input === null) {
        sendJson(res, 400, { error: "body must be a JSON object" });
        return;
      }
      const { mode, count, retryAfter } = input as { mode?: unknown; count?: unknown; retryAfter?: unknown };
      if (typeof mode !== "string" || !FAULT_MODES.has(mode)) {
        sendJson(res, 400, { error: `mode must be one of ${[...FAULT_MODES].join(", ")}` });
        return;
      }
      if (count !== undefined && (!Number.isSafeInteger(count) || (count as number) < 0)) {
        sendJson(res, 400, { error: "count must be a non-negative integer" });
        return;
      }
      if (retryAfter !== undefined && (!Number.isSafeInteger(retryAfter) || (retryAfter as number) < 0)) {
        sendJson(res, 400, { error: "retryAfter must be a non-negative integer (seconds)" });
        return;
      }
      const remaining = count === undefined ? 1 : (count as number);
      fault = mode === "none" || remaining === 0
        ? undefined
        : { mode: mode as Exclude<FaultMode, "none">, remaining, ...(retryAfter === undefined ? {} : { retryAfter: retryAfter as number }) };
      log(`fault set mode=${fault?.mode ?? "none"} count=${fault?.remaining ?? 0}`);
      sendJson(res, 200, fault ?? { mode: "none", remaining: 0 });
      return;
    }
    sendJson(res, 404, { error: "not found" });
  }

  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://dev.invalid").pathname;
    const run = async (): Promise<void> => {
      if (await idp.handle(req, res, path, readBody)) return;
      if (ssf && (await ssf.handle(req, res, path, issuer, readBody))) return;
      if (path.startsWith("/__dev/")) {
        await handleDev(req, res, path);
        return;
      }
      if (!handleProvider) {
        sendJson(res, 503, { error: "temporarily_unavailable" });
        return;
      }
      // The token, revocation and introspection endpoints (/token, /token/revocation, ...).
      if (opts.behaviour?.literalBasicCredentials && req.method === "POST" && path.startsWith(TOKEN_PATH)) literalBasicCredentials(req);
      if (req.method === "POST" && path === TOKEN_PATH && (await handleFault(req, res))) {
        return;
      }
      if (path.startsWith("/interaction/")) {
        stripWebFonts(res);
        if (await handleStepUpInteraction(provider, interactionHelpers, req, res, path)) return;
      }
      if (opts.behaviour?.githubStyle && req.method === "POST" && path === TOKEN_PATH) answerLikeGitHub(res);
      await handleProvider(req, res);
    };
    run().catch((err: unknown) => {
      log(`request error path=${path}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendJson(res, 500, { error: "server_error" });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;
  const issuer = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;

  const store = new DevStore();
  const clients: ClientMetadata[] = opts.clients.map((client) => ({
    client_id: client.clientId,
    ...(client.clientSecret ? { client_secret: client.clientSecret } : {}),
    ...(client.jwks ? { jwks: client.jwks } : {}),
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
    ...backchannelClientMetadata(client.backchannelLogoutUri),
    ...stepUpClientMetadata(),
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    // oidc-provider treats client_secret_basic and client_secret_post as interchangeable.
    token_endpoint_auth_method: client.tokenEndpointAuthMethod ?? "client_secret_basic",
    // `sub` is the tag-free email, while the accountId keeps the tags (see pairwiseIdentifier).
    subject_type: "pairwise",
    // Required by oidc-provider for pairwise clients whose redirect URIs span several hosts;
    // never fetched (sectorIdentifierUriValidate below returns false).
    sector_identifier_uri: "https://sector.dev-oidc.invalid/",
  }));

  const configuration: Configuration = {
    adapter: idp.trackSessions((name: string) => new DevAdapter(name, store)),
    ...idp.configuration(),
    ...stepUpConfiguration(),
    clients,
    jwks: devSigningKeys(),
    cookies: { keys: [randomBytes(32).toString("base64url")] },
    scopes: ["openid", "offline_access", "profile", "email"],
    claims: {
      // acr and amr (step-up.ts) with every id_token, as Keycloak and Entra send them.
      openid: ["sub", "acr", "amr"],
      email: ["email", "email_verified"],
      profile: ["name", "preferred_username", "groups"],
    },
    conformIdTokenClaims: opts.behaviour?.thinIdToken === true,
    pkce: { required: () => true },
    rotateRefreshToken: opts.behaviour?.rotateRefreshToken ?? true,
    ...(opts.behaviour?.refreshWithoutConsent
      ? { issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => client.grantTypeAllowed("refresh_token") }
      : {}),
    // As strict as real providers (oidc-provider's defaults, never friendlier): a refresh token
    // only for a grant with offline_access, which is granted only with prompt=consent (OIDC Core
    // 11); tokens of grants without it end with the provider's browser session.
    findAccount: (_ctx, id) => devAccount(id),
    subjectTypes: ["public", "pairwise"],
    // oidc-provider always sets `sub` to the accountId; pairwise clients get this function's
    // result instead. The accountId is the login with its tags (so the TTL can be read back
    // from any token); the subject is the tag-free email, stable across tags.
    pairwiseIdentifier: (_ctx, accountId) => parseDevLogin(accountId).sub,
    sectorIdentifierUriValidate: () => false,
    clientBasedCORS: () => false,
    ttl: {
      AccessToken: (_ctx, token) =>
        token.accountId ? parseDevLogin(token.accountId).accessTokenTtl : DEFAULT_ACCESS_TOKEN_TTL,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 60 * 60,
      Interaction: 60 * 60,
      Session: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
    },
    renderError: (ctx, out) => {
      ctx.type = "html";
      ctx.body = page(
        "Something went wrong",
        Object.entries(out)
          .map(([key, value]) => `<pre><strong>${escapeHtml(key)}</strong>: ${escapeHtml(String(value))}</pre>`)
          .join(""),
      );
    },
    features: {
      devInteractions: { enabled: true },
      ...idp.features,
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      introspection: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.type = "html";
          ctx.body = page(
            `Do you want to sign-out from ${ctx.host}?`,
            `${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.type = "html";
          ctx.body = page("Sign-out Success", "<p>Your sign-out was successful.</p>");
        },
      },
    },
  };

  const provider = new Provider(issuer, configuration);
  idp.attach(provider);

  // Token-endpoint accounting: exactly one of grant.success / grant.error / server_error is
  // emitted per token-endpoint request that reaches oidc-provider.
  const onToken = (ctx: KoaContextWithOIDC, error?: OIDCProviderError): void => {
    if (ctx.oidc?.route !== "token") return;
    const grantType = describeGrantType(ctx);
    stats.tokenRequests += 1;
    if (grantType === "refresh_token") {
      stats.refreshGrants += 1;
      if (error) stats.refreshErrors += 1;
      else stats.refreshSuccess += 1;
      if (error?.error_detail === "refresh token already used") stats.reuseDetected += 1;
    } else if (grantType === "authorization_code") {
      stats.authorizationCodeGrants += 1;
    }
    const result = error
      ? `error=${error.error ?? "server_error"}${error.error_detail ? ` detail="${error.error_detail}"` : ""}`
      : "success";
    log(`token grant_type=${grantType} client=${describeClient(ctx)} status=${error ? (error.statusCode ?? 500) : 200} result=${result}`);
  };
  provider.on("grant.success", (ctx) => onToken(ctx));
  provider.on("grant.error", (ctx, error) => onToken(ctx, error));
  provider.on("server_error", (ctx, error) => onToken(ctx, error));
  provider.on("grant.revoked", (ctx) => {
    stats.grantsRevoked += 1;
    log(`grant revoked route=${ctx.oidc?.route ?? "unknown"}`);
  });
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route === "revocation" && ctx.status === 200) stats.revocations += 1;
  });

  handleProvider = provider.callback();

  return {
    issuer,
    stats: () => ({ ...stats }),
    reset: () => {
      stats = zeroStats();
    },
    close: async () => {
      fault = undefined;
      for (const socket of heldSockets) socket.destroy();
      heldSockets.clear();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
