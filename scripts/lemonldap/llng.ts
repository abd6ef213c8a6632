// LemonLDAP::NG 2.16.1 (Debian's packages) as a second, independent OpenID provider for tests.
//
// Each startLemonLdap() call runs an instance of its own: a fresh state directory (configuration,
// sessions, caches, signing key, logs), `llng-fastcgi-server` on a unix socket in it and an
// nginx of its own on a free loopback port. Nothing under /etc or /var/lib/lemonldap-ng is
// changed, so several instances (and the packages' own, stopped, services) coexist.
//
// Install first with scripts/lemonldap/install.sh (root, Debian): it also maps LLNG_HOST
// (default auth.llng.test) to 127.0.0.1, because the portal sets its SSO cookie for a domain,
// which must be dotted.
//
// Never logs token values or secrets: nginx's access log records method, path (no query),
// status, the grant_type of token requests and the scheme of the Authorization header only.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** One relying party (OIDC client) registered at the instance. */
export interface LlngClientOptions {
  /** Any printable characters, e.g. `claims-kit-app` (`-_.!~*'()` included). */
  clientId: string;
  /**
   * Confidential clients only. LemonLDAP 2.16.1 reads an HTTP Basic header with `/^Basic (\w+)/`:
   * a base64 value containing `+` or `/` is cut there and the client is refused. Pick secrets for
   * which base64(`id:secret`) has neither ({@link basicAuthSafe} checks; start() refuses others
   * unless `allowBasicUnsafeSecret`). A `:` in the secret is also cut off by LemonLDAP.
   */
  clientSecret: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Refresh tokens for `offline_access` + `prompt=consent` (AllowOffline). Default true. */
  allowOffline?: boolean;
  /** Refresh tokens tied to the SSO session, without offline_access (RefreshToken). Default false. */
  onlineRefreshTokens?: boolean;
  /** Access-token lifetime in seconds (AccessTokenExpiration). Default LemonLDAP's, 3600. */
  accessTokenTtl?: number;
  /** Default true. */
  requirePkce?: boolean;
  /** Put the profile claims (email, name...) in the id_token too (IDTokenForceClaims). Default false: userinfo only. */
  idTokenForceClaims?: boolean;
  /** Skip the consent form (BypassConsent). Default false: the user sees and accepts the real form. */
  bypassConsent?: boolean;
  /** Skip the "are you sure" page of RP-initiated logout (LogoutBypassConfirm). Default false. */
  logoutBypassConfirm?: boolean;
  /**
   * Claims released to this client: claim name -> session attribute or per-RP macro, optionally
   * `;type` (`string`, `int`, `bool`) and `;array` (`auto`, `always`, `never`).
   * Default {@link DEFAULT_EXPORTED_CLAIMS}.
   */
  claims?: Record<string, string>;
  /** Per-RP macros (name -> Perl expression over session attributes). Default {@link DEFAULT_RP_MACROS}. */
  macros?: Record<string, string>;
  /** Shown on the consent page. Default the client id. */
  displayName?: string;
  /** Skip the Basic-safety check of the secret (to reproduce LemonLDAP's truncation on purpose). */
  allowBasicUnsafeSecret?: boolean;
}

export type LlngLogLevel = "error" | "warn" | "notice" | "info" | "debug";

export interface StartLemonLdapOptions {
  clients: LlngClientOptions[];
  /** 0 or absent: a free loopback port. */
  port?: number;
  /** Dotted host name that resolves to 127.0.0.1. Default env LLNG_HOST or `auth.llng.test`. */
  host?: string;
  /** FastCGI worker processes. Default 2 (each compiles the portal on its first request). */
  workers?: number;
  /** LemonLDAP's log level (its log goes to `<stateDir>/llng.log`). Default `notice`. */
  logLevel?: LlngLogLevel;
  /** Keep the state directory after close() (to read the logs). Default false. */
  keepStateDir?: boolean;
  /** Milliseconds to wait for discovery to answer. Default 30000. */
  startTimeoutMs?: number;
  /**
   * Work around a LemonLDAP 2.16.1 bug: after a sign-in through its OIDC issuer, the portal's
   * `<cookieName>pdata` cookie keeps a stale return URL (`_url`, the issuer's `/oauth2`), and
   * RP-initiated logout redirects there instead of to `post_logout_redirect_uri` (the session is
   * ended all the same; the browser sees the portal's login page, "Authentication required").
   * true: nginx hides that cookie from the end_session endpoint, so the browser goes back to the
   * client. Default false (the real behaviour).
   */
  fixLogoutRedirect?: boolean;
}

/** One line of the instance's nginx access log. */
export interface LlngRequest {
  /** Unix time in milliseconds. */
  at: number;
  method: string;
  /** Path without the query string. */
  path: string;
  status: number;
  /** `grant_type` of a token-endpoint request (from its body), else undefined. */
  grantType: string | undefined;
  /** Scheme of the Authorization header (`Basic`, `Bearer`), else undefined. */
  authScheme: string | undefined;
}

export interface LlngEndpointCounts {
  total: number;
  /** By HTTP status, e.g. `{ "200": 3, "400": 1 }`. */
  byStatus: Record<string, number>;
}

export interface LlngCounts {
  token: LlngEndpointCounts & {
    /** By grant type and status, e.g. `{ refresh_token: { total: 2, byStatus: { "200": 2 } } }`. */
    byGrant: Record<string, LlngEndpointCounts>;
  };
  userinfo: LlngEndpointCounts;
  authorize: LlngEndpointCounts;
  endSession: LlngEndpointCounts;
  discovery: LlngEndpointCounts;
  jwks: LlngEndpointCounts;
  /** Every request nginx answered. */
  all: LlngEndpointCounts;
}

export interface RunningLemonLdap {
  /** `http://<host>:<port>` (no trailing slash): the issuer and the discovery base. */
  issuer: string;
  /** The portal's own URL (`issuer` + `/`): its login page and where it may send the browser. */
  portal: string;
  host: string;
  port: number;
  /** Name of the SSO cookie (unique per instance, so instances on other ports don't clash). */
  cookieName: string;
  stateDir: string;
  /** LemonLDAP's log (stderr of llng-fastcgi-server). */
  logFile: string;
  accessLogFile: string;
  /** Requests answered since start (or the last resetCounts()), once nginx has logged them. */
  requests(): Promise<LlngRequest[]>;
  counts(): Promise<LlngCounts>;
  resetCounts(): Promise<void>;
  /**
   * Deletes `user`'s offline sessions (the refresh tokens issued for offline_access) at the
   * provider, file and local-cache entry together, and sweeps again (about 50 ms) in case a refresh
   * in flight wrote one back; returns how many were deleted. The next refresh with one of them
   * answers 400 `{"error":"invalid_request"}`; userinfo with an access token minted from it, 401.
   * Online sessions are untouched (RP-initiated logout does not end offline sessions either).
   */
  endOfflineSessions(user: string): Promise<number>;
  /** Live sessions of `user` (or everyone) by kind: `sso`, `offline`, `access_token`, ... */
  sessions(user?: string): LlngSessionSummary[];
  /** Stops nginx and llng-fastcgi-server and removes the state directory. Idempotent. */
  close(): Promise<void>;
}

export interface LlngSessionSummary {
  id: string;
  kind: "sso" | "offline" | "online_refresh" | "access_token" | "authorization_code" | "other";
  user: string | undefined;
  clientId: string | undefined;
}

export type LlngErrorCode = "LLNG_NOT_INSTALLED" | "LLNG_HOST_UNRESOLVED" | "LLNG_BAD_OPTION" | "LLNG_START_FAILED";

export class LemonLdapError extends Error {
  constructor(
    readonly code: LlngErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "LemonLdapError";
  }
}

/** The Demo backend's users; the password is the login. */
export const LLNG_DEMO_USERS = {
  dwho: { login: "dwho", password: "dwho", email: "dwho@badwolf.org", name: "Doctor Who" },
  rtyler: { login: "rtyler", password: "rtyler", email: "rtyler@badwolf.org", name: "Rose Tyler" },
  msmith: { login: "msmith", password: "msmith", email: "msmith@badwolf.org", name: "Mickey Smith" },
} as const;

/**
 * Claims released by default. The Demo users have no "email verified" attribute: the per-RP macro
 * `llngEmailVerified` (always 1) exported with type `bool` supplies `email_verified: true`.
 */
export const DEFAULT_EXPORTED_CLAIMS: Readonly<Record<string, string>> = {
  email: "mail",
  email_verified: "llngEmailVerified;bool",
  name: "cn",
  preferred_username: "uid",
};

export const DEFAULT_RP_MACROS: Readonly<Record<string, string>> = { llngEmailVerified: "1" };

export const DEFAULT_LLNG_HOST = "auth.llng.test";

// ---------------------------------------------------------------------------------------------
// Package files
// ---------------------------------------------------------------------------------------------

const FASTCGI_SERVER = "/usr/sbin/llng-fastcgi-server";
const NGINX = "/usr/sbin/nginx";
const PACKAGE_CONF = "/var/lib/lemonldap-ng/conf/lmConf-1.json";
const PORTAL_HTDOCS = "/usr/share/lemonldap-ng/portal/htdocs";
const PORTAL_TEMPLATES = "/usr/share/lemonldap-ng/portal/templates";
const FASTCGI_PARAMS = "/etc/nginx/fastcgi_params";
const STD_LOGGER = "Lemonldap::NG::Common::Logger::Std";
// Cache::FileCache namespace of the portal's local session cache (the package default).
const SESSION_CACHE_NAMESPACE = "lemonldap-ng-sessions";
const SESSION_CACHE_DEPTH = 3;

/**
 * Why LemonLDAP cannot run here, or undefined when it can (installed, host resolvable).
 *
 * @example
 * const why = await lemonLdapUnavailable();
 * if (why) return t.skip(`LemonLDAP: ${why}`);
 */
export async function lemonLdapUnavailable(host = defaultHost()): Promise<string | undefined> {
  for (const file of [FASTCGI_SERVER, NGINX, `${PORTAL_HTDOCS}/index.psgi`]) {
    if (!existsSync(file)) return `LemonLDAP::NG is not installed (${file} missing; run scripts/lemonldap/install.sh as root)`;
  }
  try {
    const { address } = await lookup(host, { family: 4 });
    if (address !== "127.0.0.1") return `${host} resolves to ${address}, not 127.0.0.1`;
  } catch {
    return `${host} does not resolve (scripts/lemonldap/install.sh adds it to /etc/hosts)`;
  }
  return undefined;
}

function defaultHost(): string {
  return process.env.LLNG_HOST || DEFAULT_LLNG_HOST;
}

// ---------------------------------------------------------------------------------------------
// Option checks
// ---------------------------------------------------------------------------------------------

/** True when LemonLDAP 2.16.1 can read `Basic base64(id:secret)` (its regex stops at `+`, `/`, `=`). */
export function basicAuthSafe(clientId: string, clientSecret: string): boolean {
  const encoded = Buffer.from(`${clientId}:${clientSecret}`, "utf8").toString("base64").replace(/=+$/, "");
  return /^\w+$/.test(encoded) && !clientSecret.includes(":");
}

function checkClient(client: LlngClientOptions, index: number): void {
  const where = `clients[${index}]`;
  const bad = (message: string): never => {
    throw new LemonLdapError("LLNG_BAD_OPTION", `${where}.${message}`);
  };
  // Whitespace separates values in LemonLDAP's lists; control characters break its JSON consumers.
  if (!/^[\x21-\x7e]+$/.test(client.clientId)) bad(`clientId must be printable ASCII without spaces, got ${JSON.stringify(client.clientId)}`);
  if (client.clientSecret.length === 0) bad("clientSecret must not be empty (LemonLDAP public clients are not supported here)");
  if (!client.allowBasicUnsafeSecret && !basicAuthSafe(client.clientId, client.clientSecret)) {
    bad("clientSecret: base64(clientId:clientSecret) contains + or / (or the secret a ':'), which LemonLDAP 2.16.1 truncates in HTTP Basic; pick another secret or set allowBasicUnsafeSecret");
  }
  if (client.redirectUris.length === 0) bad("redirectUris must list at least one URI");
  for (const uri of [...client.redirectUris, ...(client.postLogoutRedirectUris ?? [])]) {
    if (/\s/.test(uri) || !URL.canParse(uri)) bad(`redirect URI ${JSON.stringify(uri)} is not an absolute URL without spaces`);
  }
  const ttl = client.accessTokenTtl;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) bad(`accessTokenTtl must be a positive integer (seconds), got ${ttl}`);
}

function checkOptions(options: StartLemonLdapOptions): void {
  if (options.clients.length === 0) throw new LemonLdapError("LLNG_BAD_OPTION", "clients must register at least one relying party");
  options.clients.forEach(checkClient);
  const ids = new Set(options.clients.map((c) => c.clientId));
  if (ids.size !== options.clients.length) throw new LemonLdapError("LLNG_BAD_OPTION", "clients: two clients share a clientId");
  const workers = options.workers;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 16)) {
    throw new LemonLdapError("LLNG_BAD_OPTION", `workers must be an integer from 1 to 16, got ${workers}`);
  }
  const host = options.host;
  if (host !== undefined && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host)) {
    throw new LemonLdapError("LLNG_BAD_OPTION", `host must be a dotted host name (the SSO cookie needs a domain), got ${JSON.stringify(host)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Configuration files
// ---------------------------------------------------------------------------------------------

interface Layout {
  root: string;
  ini: string;
  confDir: string;
  sessions: string;
  psessions: string;
  oidcSessions: string;
  cache: string;
  socket: string;
  fastcgiPid: string;
  nginxConf: string;
  nginxPid: string;
  nginxTemp: string;
  llngLog: string;
  nginxErrorLog: string;
  accessLog: string;
}

function layoutOf(root: string): Layout {
  return {
    root,
    ini: path.join(root, "lemonldap-ng.ini"),
    confDir: path.join(root, "conf"),
    sessions: path.join(root, "sessions"),
    psessions: path.join(root, "psessions"),
    oidcSessions: path.join(root, "oidc"),
    cache: path.join(root, "cache"),
    socket: path.join(root, "llng.sock"),
    fastcgiPid: path.join(root, "llng-fastcgi.pid"),
    nginxConf: path.join(root, "nginx.conf"),
    nginxPid: path.join(root, "nginx.pid"),
    nginxTemp: path.join(root, "nginx-temp"),
    llngLog: path.join(root, "llng.log"),
    nginxErrorLog: path.join(root, "nginx-error.log"),
    accessLog: path.join(root, "access.log"),
  };
}

function iniFile(layout: Layout, logLevel: LlngLogLevel): string {
  // The package's lemonldap-ng.ini, pointed at this instance's directories, logging to stderr.
  // No local config cache: the configuration file is written once, before the portal starts.
  return [
    "[all]",
    `logLevel = ${logLevel}`,
    `logger = ${STD_LOGGER}`,
    `userLogger = ${STD_LOGGER}`,
    "checkTime = 600",
    "",
    "[configuration]",
    "type = File",
    `dirName = ${layout.confDir}`,
    "prettyPrint = 1",
    "",
    "[portal]",
    "staticPrefix = /static",
    `templateDir = ${PORTAL_TEMPLATES}`,
    "languages = en",
    "",
    "[handler]",
    "status = 0",
    "useRedirectOnError = 1",
    "",
  ].join("\n");
}

function storage(directory: string): Record<string, string> {
  return {
    Directory: directory,
    LockDirectory: path.join(directory, "lock"),
    generateModule: "Lemonldap::NG::Common::Apache::Session::Generate::SHA256",
  };
}

/** The package's default configuration (Debian ships it as lmConf-1.json), or {} if unreadable. */
function packageDefaults(): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(PACKAGE_CONF, "utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    // Not readable (not root): LemonLDAP fills every unset key from its DefaultValues.
    return {};
  }
}

interface SigningKey {
  privatePem: string;
  publicPem: string;
  kid: string;
}

function signingKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    // Crypt::OpenSSL::RSA->new_private_key reads PKCS#1 ("BEGIN RSA PRIVATE KEY").
    privatePem: privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    kid: randomBytes(8).toString("hex"),
  };
}

/** Configuration keys are RP "conf keys": plain words, since LemonLDAP matches them with \b...\b. */
function confKey(index: number): string {
  return `rp${index + 1}`;
}

function rpOptions(client: LlngClientOptions): Record<string, string | number> {
  const flag = (value: boolean | undefined, fallback: boolean): number => ((value ?? fallback) ? 1 : 0);
  return {
    oidcRPMetaDataOptionsClientID: client.clientId,
    oidcRPMetaDataOptionsClientSecret: client.clientSecret,
    oidcRPMetaDataOptionsDisplayName: client.displayName ?? client.clientId,
    oidcRPMetaDataOptionsRedirectUris: client.redirectUris.join(" "),
    oidcRPMetaDataOptionsPostLogoutRedirectUris: (client.postLogoutRedirectUris ?? []).join(" "),
    oidcRPMetaDataOptionsAllowOffline: flag(client.allowOffline, true),
    oidcRPMetaDataOptionsRefreshToken: flag(client.onlineRefreshTokens, false),
    oidcRPMetaDataOptionsRequirePKCE: flag(client.requirePkce, true),
    oidcRPMetaDataOptionsIDTokenForceClaims: flag(client.idTokenForceClaims, false),
    oidcRPMetaDataOptionsBypassConsent: flag(client.bypassConsent, false),
    oidcRPMetaDataOptionsLogoutBypassConfirm: flag(client.logoutBypassConfirm, false),
    // The manager's default is HS512; Auth.js (oauth4webapi) expects RS256 unless told otherwise.
    oidcRPMetaDataOptionsIDTokenSignAlg: "RS256",
    oidcRPMetaDataOptionsPublic: 0,
    oidcRPMetaDataOptionsAccessTokenJWT: 0,
    ...(client.accessTokenTtl !== undefined ? { oidcRPMetaDataOptionsAccessTokenExpiration: client.accessTokenTtl } : {}),
  };
}

/** The SSO cookie's domain: the host's parent (auth.llng.test -> llng.test), never a bare TLD. */
function cookieDomain(host: string): string {
  const labels = host.split(".");
  return labels.length > 2 ? labels.slice(1).join(".") : host;
}

interface Instance {
  host: string;
  port: number;
  issuer: string;
  portal: string;
  cookieName: string;
}

function lmConf(instance: Instance, layout: Layout, key: SigningKey, clients: LlngClientOptions[]): Record<string, unknown> {
  const rpOptionsByKey: Record<string, unknown> = {};
  const claimsByKey: Record<string, unknown> = {};
  const macrosByKey: Record<string, unknown> = {};
  clients.forEach((client, index) => {
    rpOptionsByKey[confKey(index)] = rpOptions(client);
    claimsByKey[confKey(index)] = { ...(client.claims ?? DEFAULT_EXPORTED_CLAIMS) };
    macrosByKey[confKey(index)] = { ...(client.macros ?? DEFAULT_RP_MACROS) };
  });
  const defaults = packageDefaults();
  // The demo's reload URLs and example.com virtual hosts point nowhere on this machine.
  for (const unused of ["reloadUrls", "exportedHeaders", "applicationList"]) delete defaults[unused];
  return {
    ...defaults,
    cfgNum: 1,
    cfgAuthor: "claims-kit scripts/lemonldap/llng.ts",
    cfgDate: String(Math.floor(Date.now() / 1000)),
    authentication: "Demo",
    userDB: "Demo",
    passwordDB: "Demo",
    registerDB: "Null",
    // No "Create an account" link next to the login form (the Demo backend has no registration).
    portalDisplayRegister: 0,
    domain: cookieDomain(instance.host),
    portal: instance.portal,
    cookieName: instance.cookieName,
    securedCookie: 0,
    locationRules: { [instance.host]: { default: "accept" } },
    globalStorage: "Apache::Session::File",
    globalStorageOptions: storage(layout.sessions),
    persistentStorage: "Apache::Session::File",
    persistentStorageOptions: storage(layout.psessions),
    // Own directory for OIDC sessions (codes, access and refresh tokens) so they can be listed.
    oidcStorage: "Apache::Session::File",
    oidcStorageOptions: storage(layout.oidcSessions),
    localSessionStorage: "Cache::FileCache",
    localSessionStorageOptions: {
      cache_root: layout.cache,
      cache_depth: SESSION_CACHE_DEPTH,
      default_expires_in: 600,
      directory_umask: "007",
      namespace: SESSION_CACHE_NAMESPACE,
    },
    notification: 0,
    issuerDBOpenIDConnectActivation: 1,
    oidcServiceMetaDataIssuer: instance.issuer,
    oidcServicePrivateKeySig: key.privatePem,
    oidcServicePublicKeySig: key.publicPem,
    oidcServiceKeyIdSig: key.kid,
    oidcServiceAllowAuthorizationCodeFlow: 1,
    oidcServiceAllowImplicitFlow: 0,
    oidcServiceAllowHybridFlow: 0,
    // Claims follow the granted scopes (profile -> name..., email -> email, email_verified), as
    // the spec says; the package's demo configuration releases every claim whatever the scope.
    oidcServiceIgnoreScopeForClaims: 0,
    oidcRPMetaDataOptions: rpOptionsByKey,
    oidcRPMetaDataExportedVars: claimsByKey,
    oidcRPMetaDataMacros: macrosByKey,
    oidcRPMetaDataOptionsExtraClaims: {},
  };
}

/** The FastCGI hand-over of the package's portal-nginx.conf; `cookie` replaces the Cookie header. */
function portalFastcgi(indent: string, cookie?: string): string {
  return [
    `include ${FASTCGI_PARAMS};`,
    "fastcgi_pass llng_portal_upstream;",
    "fastcgi_param LLTYPE psgi;",
    "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;",
    "fastcgi_split_path_info ^(.*\\.psgi)(/.*)$;",
    "fastcgi_param PATH_INFO $fastcgi_path_info;",
    ...(cookie ? [`fastcgi_param HTTP_COOKIE ${cookie};`] : []),
  ]
    .map((line) => indent + line)
    .join("\n");
}

function nginxConf(instance: Instance, layout: Layout, asRoot: boolean, fixLogoutRedirect: boolean): string {
  const temp = (name: string): string => path.join(layout.nginxTemp, name);
  const pdata = `${instance.cookieName}pdata`;
  const logoutFix = fixLogoutRedirect
    ? `
  # fixLogoutRedirect: the Cookie header without the portal's stale pdata cookie.
  map $http_cookie $llng_cookie_without_pdata {
    "~^(?<before>.*?)(?:^|;\\s*)${pdata}=[^;]*(?<after>.*)$" "$before$after";
    default $http_cookie;
  }`
    : "";
  const logoutLocation = fixLogoutRedirect
    ? `
      location ~ ^/index\\.psgi/oauth2/logout {
${portalFastcgi("        ", "$llng_cookie_without_pdata")}
      }`
    : "";
  return `# nginx of one LemonLDAP::NG test instance (scripts/lemonldap/llng.ts)
${asRoot ? "user www-data www-data;" : ""}
daemon off;
master_process on;
worker_processes 1;
pid ${layout.nginxPid};
error_log ${layout.nginxErrorLog} warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  client_body_temp_path ${temp("body")};
  fastcgi_temp_path ${temp("fastcgi")};
  proxy_temp_path ${temp("proxy")};
  uwsgi_temp_path ${temp("uwsgi")};
  scgi_temp_path ${temp("scgi")};
  # Token requests are small: keep their bodies in memory so $request_body (grant_type) is logged.
  client_body_buffer_size 64k;
  client_max_body_size 64k;
  sendfile on;
  keepalive_timeout 30;

  # The path without its query (end_session carries an id_token_hint, which is not logged).
  map $request_uri $llng_path {
    "~^(?<p>[^?]*)" $p;
    default "-";
  }
  map $request_body $llng_grant {
    "~(?:^|&)grant_type=(?<g>[A-Za-z0-9_.:%-]+)" $g;
    default "-";
  }
  map $http_authorization $llng_auth_scheme {
    "~^(?<s>[A-Za-z0-9_-]+)" $s;
    default "-";
  }${logoutFix}
  log_format llng '$msec $request_method $llng_path $status $llng_grant $llng_auth_scheme';
  access_log ${layout.accessLog} llng;

  upstream llng_portal_upstream {
    server unix:${layout.socket};
  }

  server {
    listen 127.0.0.1:${instance.port};
    server_name ${instance.host};
    root ${PORTAL_HTDOCS}/;

    # As the package's portal-nginx.conf: everything but static files goes to index.psgi.
    if ($uri !~ ^/((static|javascript|favicon).*|.*\\.psgi)) {
      rewrite ^/(.*)$ /index.psgi/$1 break;
    }

    location ~ ^(?<sc>/.*\\.psgi)(?:$|/) {
${portalFastcgi("      ")}${logoutLocation}
    }

    location /static/ {
      alias ${PORTAL_HTDOCS}/static/;
    }
    location /javascript/ {
      alias /usr/share/javascript/;
    }
  }
}
`;
}

// ---------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------

interface Account {
  uid: number;
  gid: number;
}

/** www-data's ids from the system databases (the fastcgi server refuses to run as root). */
function wwwData(): Account {
  const field = (file: string, name: string, index: number): number => {
    const line = readFileSync(file, "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}:`));
    const value = Number(line?.split(":")[index]);
    if (!Number.isInteger(value)) throw new LemonLdapError("LLNG_NOT_INSTALLED", `no ${name} entry in ${file}`);
    return value;
  };
  return { uid: field("/etc/passwd", "www-data", 2), gid: field("/etc/group", "www-data", 2) };
}

function chownTree(root: string, account: Account): void {
  chownSync(root, account.uid, account.gid);
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) chownTree(full, account);
    else chownSync(full, account.uid, account.gid);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function spawnLogged(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(logFile, "a");
  try {
    return spawn(command, args, { stdio: ["ignore", fd, fd], env });
  } finally {
    closeSync(fd);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs = 5000): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => {
    if (!exited(child)) child.kill("SIGKILL");
  }, timeoutMs);
  await done;
  clearTimeout(timer);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForDiscovery(issuer: string, children: ChildProcess[], deadline: number): Promise<void> {
  const url = `${issuer}/.well-known/openid-configuration`;
  while (Date.now() < deadline) {
    const dead = children.find(exited);
    if (dead) throw new Error(`${dead.spawnfile} exited with ${dead.exitCode ?? dead.signalCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())) });
      const body = (await response.json()) as { issuer?: unknown };
      if (response.ok && body.issuer === issuer) return;
    } catch {
      // nginx not listening yet, or the portal still compiling (502 with an HTML body).
    }
    await sleep(50);
  }
  throw new Error(`discovery at ${url} did not answer in time`);
}

// ---------------------------------------------------------------------------------------------
// Access log
// ---------------------------------------------------------------------------------------------

function parseAccessLine(line: string): LlngRequest | undefined {
  const [msec, method, requestPath, status, grant, scheme] = line.split(" ");
  if (!msec || !method || !requestPath || !status || grant === undefined || scheme === undefined) return undefined;
  return {
    at: Math.round(Number(msec) * 1000),
    method,
    path: requestPath,
    status: Number(status),
    grantType: grant === "-" ? undefined : decodeURIComponent(grant),
    authScheme: scheme === "-" ? undefined : scheme,
  };
}

function emptyCounts(): LlngEndpointCounts {
  return { total: 0, byStatus: {} };
}

function add(counts: LlngEndpointCounts, status: number): void {
  counts.total += 1;
  counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
}

/** Counts per endpoint from access-log entries (paths as LemonLDAP's discovery lists them). */
export function countRequests(requests: LlngRequest[]): LlngCounts {
  const counts: LlngCounts = {
    token: { ...emptyCounts(), byGrant: {} },
    userinfo: emptyCounts(),
    authorize: emptyCounts(),
    endSession: emptyCounts(),
    discovery: emptyCounts(),
    jwks: emptyCounts(),
    all: emptyCounts(),
  };
  for (const request of requests) {
    add(counts.all, request.status);
    switch (request.path) {
      case "/oauth2/token": {
        add(counts.token, request.status);
        const grant = request.grantType ?? "(none)";
        counts.token.byGrant[grant] ??= emptyCounts();
        add(counts.token.byGrant[grant], request.status);
        break;
      }
      case "/oauth2/userinfo":
        add(counts.userinfo, request.status);
        break;
      case "/oauth2/authorize":
        add(counts.authorize, request.status);
        break;
      case "/oauth2/logout":
        add(counts.endSession, request.status);
        break;
      case "/.well-known/openid-configuration":
        add(counts.discovery, request.status);
        break;
      case "/oauth2/jwks":
        add(counts.jwks, request.status);
        break;
    }
  }
  return counts;
}

/**
 * nginx writes a request's log line just after sending its response, so a client can read the log
 * a moment before the line is there: wait until the file stops growing (50 ms, at most 1 s).
 */
async function settledSize(file: string): Promise<number> {
  const size = (): number => (existsSync(file) ? statSync(file).size : 0);
  let last = size();
  for (let i = 0; i < 40; i += 1) {
    await sleep(25);
    const now = size();
    if (now === last && i >= 1) return now;
    last = now;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// Sessions on disk
// ---------------------------------------------------------------------------------------------

/** Session files are named by their id (LemonLDAP serialises Apache::Session::File as JSON). */
function readSessions(directory: string): Array<{ id: string; data: Record<string, unknown> }> {
  if (!existsSync(directory)) return [];
  const sessions: Array<{ id: string; data: Record<string, unknown> }> = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (!entry.isFile() || !/^[A-Za-z0-9-]+$/.test(entry.name)) continue;
    try {
      const parsed: unknown = JSON.parse(readFileSync(path.join(directory, entry.name), "utf8"));
      if (typeof parsed === "object" && parsed !== null) sessions.push({ id: entry.name, data: parsed as Record<string, unknown> });
    } catch {
      // Being written right now, or removed meanwhile: not a live session for our purpose.
    }
  }
  return sessions;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function summarise(id: string, data: Record<string, unknown>, clientIds: ReadonlyMap<string, string>): LlngSessionSummary {
  const type = text(data._type);
  // Access tokens name their client by configuration key (`rp`), the others by client id.
  const rp = text(data.rp);
  const clientId = text(data.client_id) ?? (rp === undefined ? undefined : clientIds.get(rp));
  if (type === undefined && text(data._session_kind) === "SSO") return { id, kind: "sso", user: text(data._user), clientId: undefined };
  if (type === "refresh_token") {
    // Offline refresh tokens carry the user's attributes; online ones only point at the SSO session.
    const offline = text(data.user_session_id) === undefined;
    return { id, kind: offline ? "offline" : "online_refresh", user: text(data._session_uid) ?? text(data._user), clientId };
  }
  if (type === "access_token") return { id, kind: "access_token", user: undefined, clientId };
  if (type === "authorization_code") return { id, kind: "authorization_code", user: undefined, clientId };
  return { id, kind: "other", user: text(data._user), clientId };
}

/**
 * Where Cache::FileCache keeps `key`: <root>/<namespace>/<c1>/<c2>/<c3>/<sha1 hex of key>
 * (Cache::FileBackend: _Build_Unique_Key is sha1_hex, split into `cache_depth` one-letter dirs).
 */
export function sessionCachePath(cacheRoot: string, id: string): string {
  const unique = createHash("sha1").update(id, "utf8").digest("hex");
  return path.join(cacheRoot, SESSION_CACHE_NAMESPACE, ...unique.slice(0, SESSION_CACHE_DEPTH).split(""), unique);
}

/**
 * Deletes `user`'s offline sessions: the session file and, because the portal reads sessions
 * through its local cache first (Cache::FileCache, 10 min), the cache entry; returns their ids.
 */
function deleteOfflineSessions(layout: Layout, user: string, clientIds: ReadonlyMap<string, string>): string[] {
  const ids: string[] = [];
  for (const { id, data } of readSessions(layout.oidcSessions)) {
    const summary = summarise(id, data, clientIds);
    if (summary.kind !== "offline" || summary.user !== user) continue;
    removeIfPresent(path.join(layout.oidcSessions, id));
    removeIfPresent(sessionCachePath(layout.cache, id));
    removeIfPresent(path.join(layout.oidcSessions, "lock", `Apache-Session-${id}.lock`));
    ids.push(id);
  }
  return ids;
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

const liveChildren = new Set<ChildProcess>();
const liveStateDirs = new Set<string>();
let exitHookInstalled = false;

/**
 * A test process that ends without close() (a failed assertion, a crash) would leave nginx and the
 * FastCGI server running and the state directory behind: stop and remove them on exit.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) if (!exited(child)) child.kill("SIGTERM");
    for (const dir of liveStateDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/**
 * Starts a LemonLDAP::NG instance with the given relying parties and waits until its discovery
 * document answers.
 *
 * @example
 * const llng = await startLemonLdap({
 *   clients: [{ clientId: "claims-kit-app", clientSecret: "claims-kit-secret",
 *     redirectUris: ["http://localhost:3000/api/auth/callback/oidc"],
 *     postLogoutRedirectUris: ["http://localhost:3000/"], accessTokenTtl: 30 }],
 * });
 * process.env.AUTH_OIDC_ISSUER = llng.issuer;
 * // ... sign in as dwho/dwho, refresh, then:
 * const { token } = await llng.counts(); // token.byGrant.refresh_token?.total
 * await llng.endOfflineSessions("dwho");
 * await llng.close();
 */
export async function startLemonLdap(options: StartLemonLdapOptions): Promise<RunningLemonLdap> {
  checkOptions(options);
  const host = options.host ?? defaultHost();
  const why = await lemonLdapUnavailable(host);
  if (why) throw new LemonLdapError(why.includes("not installed") ? "LLNG_NOT_INSTALLED" : "LLNG_HOST_UNRESOLVED", why);

  const asRoot = process.getuid?.() === 0;
  const account = asRoot ? wwwData() : undefined;
  const layout = layoutOf(mkdtempSync(path.join(tmpdir(), "llng-")));
  // nginx's workers (www-data) reach the socket in here; nobody else needs to.
  chmodSync(layout.root, 0o750);
  for (const dir of [layout.confDir, layout.sessions, layout.psessions, layout.oidcSessions, layout.cache, layout.nginxTemp]) {
    mkdirSync(dir, { recursive: true });
  }
  for (const dir of [layout.sessions, layout.psessions, layout.oidcSessions]) mkdirSync(path.join(dir, "lock"));

  const key = signingKey();
  const children: ChildProcess[] = [];
  installExitHook();
  if (!options.keepStateDir) liveStateDirs.add(layout.root);
  const track = (child: ChildProcess): ChildProcess => {
    children.push(child);
    liveChildren.add(child);
    return child;
  };
  const stopAll = async (): Promise<void> => {
    // nginx first (no new requests), then the FastCGI manager, which stops its workers on TERM.
    for (const child of [...children].reverse()) {
      await stopChild(child, "SIGTERM");
      liveChildren.delete(child);
    }
    children.length = 0;
  };
  const removeStateDir = (): void => {
    if (options.keepStateDir) return;
    rmSync(layout.root, { recursive: true, force: true });
    liveStateDirs.delete(layout.root);
  };

  try {
    const instance = await startProcesses();
    return handle(instance);
  } catch (error) {
    await stopAll();
    const logs = `\n--- llng.log\n${tail(layout.llngLog)}\n--- nginx-error.log\n${tail(layout.nginxErrorLog)}`;
    removeStateDir();
    throw new LemonLdapError("LLNG_START_FAILED", `LemonLDAP did not start: ${(error as Error).message}${logs}`);
  }

  function writeConfig(port: number): Instance {
    const origin = `http://${host}:${port}`;
    const instance: Instance = { host, port, issuer: origin, portal: `${origin}/`, cookieName: `llng${port}` };
    writeFileSync(layout.ini, iniFile(layout, options.logLevel ?? "notice"));
    writeFileSync(path.join(layout.confDir, "lmConf-1.json"), JSON.stringify(lmConf(instance, layout, key, options.clients), null, 2));
    writeFileSync(layout.nginxConf, nginxConf(instance, layout, asRoot, options.fixLogoutRedirect ?? false));
    if (account) chownTree(layout.root, account);
    return instance;
  }

  async function startProcesses(): Promise<Instance> {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    let instance = writeConfig(options.port || (await freePort()));
    const env = { ...process.env, LLNG_DEFAULTCONFFILE: layout.ini, LLNG_DEFAULTLOGGER: STD_LOGGER };
    const fastcgiArgs = ["--foreground", "-s", layout.socket, "-p", layout.fastcgiPid, "-n", String(options.workers ?? 2)];
    if (asRoot) fastcgiArgs.push("-u", "www-data", "-g", "www-data");
    const fastcgi = track(spawnLogged(FASTCGI_SERVER, fastcgiArgs, layout.llngLog, env));

    // A free port found here can be taken before nginx binds it: retry on another one. The
    // portal reads its configuration on its first request only, so rewriting it is safe.
    for (let attempt = 0; ; attempt += 1) {
      const nginx = track(spawnLogged(NGINX, ["-c", layout.nginxConf, "-p", layout.root, "-e", layout.nginxErrorLog], layout.nginxErrorLog, env));
      try {
        await waitForDiscovery(instance.issuer, [fastcgi, nginx], deadline);
        return instance;
      } catch (error) {
        const bindFailed = exited(nginx) && /bind\(\) .* failed/.test(tail(layout.nginxErrorLog, 5));
        if (!bindFailed || options.port || attempt >= 4) throw error;
        children.pop();
        liveChildren.delete(nginx);
        instance = writeConfig(await freePort());
      }
    }
  }

  function handle(instance: Instance): RunningLemonLdap {
    // Counting starts now: the start-up probes (502s while the portal compiled) are not the test's.
    let logOffset = existsSync(layout.accessLog) ? statSync(layout.accessLog).size : 0;
    let closed = false;

    const readRequests = async (): Promise<LlngRequest[]> => {
      const size = await settledSize(layout.accessLog);
      if (size <= logOffset) return [];
      // The log of one test run is a few kilobytes: read it whole, keep what follows the offset.
      return readFileSync(layout.accessLog)
        .subarray(logOffset, size)
        .toString("utf8")
        .split("\n")
        .map(parseAccessLine)
        .filter((r): r is LlngRequest => r !== undefined);
    };

    const clientIds = new Map(options.clients.map((client, index) => [confKey(index), client.clientId]));
    const instanceHandle: RunningLemonLdap = {
      issuer: instance.issuer,
      portal: instance.portal,
      host: instance.host,
      port: instance.port,
      cookieName: instance.cookieName,
      stateDir: layout.root,
      logFile: layout.llngLog,
      accessLogFile: layout.accessLog,
      requests: readRequests,
      async counts() {
        return countRequests(await readRequests());
      },
      async resetCounts() {
        logOffset = await settledSize(layout.accessLog);
      },
      async endOfflineSessions(user: string) {
        const deleted = new Set<string>();
        // A refresh in flight may have read the session from the cache already; it then writes
        // it back to disk. Sweep again until nothing reappears.
        for (let sweep = 0; sweep < 5; sweep += 1) {
          const found = deleteOfflineSessions(layout, user, clientIds);
          found.forEach((id) => deleted.add(id));
          if (sweep > 0 && found.length === 0) break;
          await sleep(50);
        }
        return deleted.size;
      },
      sessions(user?: string) {
        const all = [...readSessions(layout.sessions), ...readSessions(layout.oidcSessions)].map(({ id, data }) => summarise(id, data, clientIds));
        return user === undefined ? all : all.filter((s) => s.user === user);
      },
      async close() {
        if (closed) return;
        closed = true;
        await stopAll();
        removeStateDir();
      },
    };
    return instanceHandle;
  }
}

/**
 * Runs LemonLDAP's session tool, `lemonldap-ng-sessions`, against an instance (it switches to
 * www-data itself when run as root). E.g. `["search", "--backend", "oidc", "--where",
 * "_session_uid=dwho"]`. Note that its `delete` leaves the portal's local cache alone: a deleted
 * session keeps working for up to 10 minutes; use endOfflineSessions() to revoke refresh tokens.
 */
export function llngSessionsCli(instance: RunningLemonLdap, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("/usr/share/lemonldap-ng/bin/lemonldap-ng-sessions", args, {
    env: { ...process.env, LLNG_DEFAULTCONFFILE: path.join(instance.stateDir, "lemonldap-ng.ini") },
    encoding: "utf8",
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
