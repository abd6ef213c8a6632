// The provider and this client as oauth4webapi sees them: metadata (discovered or given), client
// authentication, and the HTTP options every request shares. No refresh logic here.
import * as o from "oauth4webapi";

/**
 * How the client authenticates at the token and revocation endpoints (RFC 6749 2.3, OIDC Core 9).
 *
 * @example
 * ```ts
 * const auth: ClientAuth = "private_key_jwt";
 * ```
 */
export type ClientAuth = "client_secret_basic" | "client_secret_post" | "client_secret_jwt" | "private_key_jwt" | "none";

/** Every method, for option checks. */
export const CLIENT_AUTH_METHODS: readonly ClientAuth[] = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"];

/**
 * A private key for `private_key_jwt`: a WebCrypto key (alone, as Auth.js's
 * `token.clientPrivateKey` takes it, or with its `kid`), or a private JWK (RSA, EC P-256/384/521,
 * or Ed25519) whose `alg`/`kid` are used as given.
 *
 * @example
 * ```ts
 * const key: ClientPrivateKey = JSON.parse(process.env.AUTH_OIDC_PRIVATE_JWK!);
 * ```
 */
export type ClientPrivateKey = CryptoKey | { key: CryptoKey; kid?: string } | (JsonWebKey & { kid?: string });

/**
 * The client as registered at the provider.
 *
 * @example
 * ```ts
 * const client: ClientCredentials = { clientId: "app", clientSecret: "s3cret", clientAuth: "client_secret_basic" };
 * ```
 */
export interface ClientCredentials {
  clientId: string;
  clientSecret?: string;
  clientAuth: ClientAuth;
  clientPrivateKey?: ClientPrivateKey;
}

/** The endpoints discovery gives (or the options name). */
export interface ProviderEndpoints {
  /** The issuer identifier from the metadata (checked against the configured issuer). */
  issuer?: string;
  tokenEndpoint: string;
  revocationEndpoint?: string;
  userinfoEndpoint?: string;
  /** OIDC RP-Initiated Logout 1.0: where to send the browser to end the provider's session. */
  endSessionEndpoint?: string;
  jwksUri?: string;
  /** The id_token signing algorithms the provider uses (discovery). */
  idTokenSigningAlgs?: string[];
}

/** Options oauth4webapi takes on every request: timeout, fetch, and plain HTTP only where the configuration uses it. */
export function httpOptions<M extends "GET" | "POST", B = undefined>(timeoutMs: number, fetcher: typeof fetch | undefined, allowHttp: boolean): o.HttpRequestOptions<M, B> & { signal: AbortSignal } {
  type Fetcher = NonNullable<o.HttpRequestOptions<M, B>[typeof o.customFetch]>;
  return {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: "application/json" },
    // Plain http only when the developer configured an http:// issuer or endpoint (a local
    // provider); an http:// URL that an https issuer's metadata names is refused (oauth4webapi).
    ...(allowHttp ? { [o.allowInsecureRequests]: true } : {}),
    ...(fetcher ? { [o.customFetch]: fetcher as unknown as Fetcher } : {}),
  };
}

/** oauth4webapi's view of the provider, built from what discovery (or the options) gave. */
export function authorizationServer(endpoints: ProviderEndpoints, issuerOverride?: string): o.AuthorizationServer {
  return {
    issuer: issuerOverride ?? endpoints.issuer ?? new URL(endpoints.tokenEndpoint).origin,
    token_endpoint: endpoints.tokenEndpoint,
    ...(endpoints.revocationEndpoint ? { revocation_endpoint: endpoints.revocationEndpoint } : {}),
  };
}

const JWK_ALGORITHMS: Record<string, { import: RsaHashedImportParams | EcKeyImportParams | Algorithm; alg: string }> = {
  RS256: { import: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, alg: "RS256" },
  PS256: { import: { name: "RSA-PSS", hash: "SHA-256" }, alg: "PS256" },
  ES256: { import: { name: "ECDSA", namedCurve: "P-256" }, alg: "ES256" },
  ES384: { import: { name: "ECDSA", namedCurve: "P-384" }, alg: "ES384" },
  ES512: { import: { name: "ECDSA", namedCurve: "P-521" }, alg: "ES512" },
  Ed25519: { import: { name: "Ed25519" }, alg: "Ed25519" },
  EdDSA: { import: { name: "Ed25519" }, alg: "EdDSA" },
};

function jwkAlgorithm(jwk: JsonWebKey): string {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === "RSA") return "RS256";
  if (jwk.kty === "EC") return jwk.crv === "P-384" ? "ES384" : jwk.crv === "P-521" ? "ES512" : "ES256";
  return "Ed25519";
}

/** Import a private JWK once (WebCrypto import is async). Throws naming what is wrong. */
async function importPrivateKey(key: ClientPrivateKey): Promise<o.PrivateKey> {
  if (key instanceof CryptoKey) return { key };
  if ("key" in key && key.key instanceof CryptoKey) return key as o.PrivateKey;
  const jwk = key as JsonWebKey & { kid?: string };
  const params = JWK_ALGORITHMS[jwkAlgorithm(jwk)];
  if (!params || !jwk.d) throw new Error(`clientPrivateKey must be a private RSA, EC or Ed25519 JWK (alg ${jwk.alg ?? jwk.kty})`);
  const { kid, ...material } = jwk;
  const cryptoKey = await crypto.subtle.importKey("jwk", { ...material, alg: undefined, ext: true }, params.import, false, ["sign"]);
  return { key: cryptoKey, ...(kid ? { kid } : {}) };
}

/**
 * Auth.js's encoding of Basic credentials: `encodeURIComponent` with spaces as `+`. It leaves
 * `-_.!~*'()` as they are, where oauth4webapi's (RFC 6749 2.3.1's form encoding) escapes them; a
 * provider that does not URL-decode Basic credentials (LemonLDAP::NG) accepts only the form it saw
 * at sign-in, so the refresh sends exactly that.
 */
const basicPart = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");

/**
 * oauth4webapi's client authentication for the configured method (the private key imported once),
 * sending exactly what Auth.js's code exchange (`@auth/core` 0.41) sends for the same
 * `token_endpoint_auth_method`, so a provider that accepted the sign-in accepts the refresh:
 * - `client_secret_basic`: `Authorization: Basic` with Auth.js's encoding (see above);
 * - `client_secret_post`, `client_secret_jwt`, `none`: oauth4webapi's, as Auth.js uses them;
 * - `private_key_jwt`: the assertion's `aud` is `[issuer, token_endpoint]`, as Auth.js sets it.
 *
 * @example
 * ```ts
 * const authenticate = clientAuthentication({ clientId: "app", clientSecret: "s3cret", clientAuth: "client_secret_basic" });
 * const auth = await authenticate();
 * ```
 */
export function clientAuthentication(client: ClientCredentials): () => Promise<o.ClientAuth> {
  let imported: Promise<o.PrivateKey> | undefined;
  return async () => {
    switch (client.clientAuth) {
      case "client_secret_basic": {
        const credentials = `Basic ${btoa(`${basicPart(client.clientId)}:${basicPart(client.clientSecret ?? "")}`)}`;
        return (_as, _client, _body, headers) => void headers.set("authorization", credentials);
      }
      case "client_secret_post":
        return o.ClientSecretPost(client.clientSecret ?? "");
      case "client_secret_jwt":
        return o.ClientSecretJwt(client.clientSecret ?? "");
      case "private_key_jwt": {
        imported ??= importPrivateKey(client.clientPrivateKey!);
        const key = await imported;
        return (as, c, body, headers) =>
          o.PrivateKeyJwt(key, {
            [o.modifyAssertion]: (_header, payload) => {
              payload.aud = [as.issuer, as.token_endpoint!];
            },
          })(as, c, body, headers);
      }
      case "none":
        return o.None();
    }
  };
}

/** What discovery returns, mapped to {@link ProviderEndpoints}. */
function endpointsOf(meta: o.AuthorizationServer): ProviderEndpoints {
  const str = (value: unknown) => (typeof value === "string" ? value : undefined);
  const found: ProviderEndpoints = { issuer: meta.issuer, tokenEndpoint: meta.token_endpoint! };
  const optional = {
    revocationEndpoint: str(meta.revocation_endpoint),
    userinfoEndpoint: str(meta.userinfo_endpoint),
    endSessionEndpoint: str(meta.end_session_endpoint),
    jwksUri: str(meta.jwks_uri),
  };
  for (const [key, value] of Object.entries(optional)) if (value) Object.assign(found, { [key]: value });
  const algs = meta.id_token_signing_alg_values_supported;
  if (Array.isArray(algs) && algs.every((a) => typeof a === "string")) found.idTokenSigningAlgs = algs;
  return found;
}

/**
 * The issuer the metadata must name: the configured one, or for a multi-tenant endpoint
 * (`/common/`, `/organizations/`) the template it answers with (`…/{tenantid}/v2.0`).
 */
async function expectedIssuer(configured: URL, response: Response): Promise<URL> {
  if (!/\/(common|organizations|consumers)(\/|$)/.test(configured.pathname)) return configured;
  const named: unknown = await response.clone().json().then((meta: { issuer?: unknown }) => meta.issuer, () => undefined);
  return typeof named === "string" && named.includes("{tenantid}") && new URL(named).origin === configured.origin ? new URL(named) : configured;
}

/**
 * Read the provider's metadata with oauth4webapi: OpenID Connect discovery, then RFC 8414. The
 * metadata's `issuer` must equal the configured one, except for a multi-tenant template issuer
 * (Microsoft Entra ID's `{tenantid}`), which is kept as the template: the refresh step checks the
 * tenant's own issuer from the id_token instead.
 *
 * @example
 * ```ts
 * const { tokenEndpoint, revocationEndpoint } = await discover("https://idp.example");
 * ```
 */
export async function discover(issuer: string, fetcher?: typeof fetch, timeoutMs = 10_000): Promise<ProviderEndpoints> {
  const url = new URL(issuer);
  const failures: string[] = [];
  for (const algorithm of ["oidc", "oauth2"] as const) {
    try {
      const response = await o.discoveryRequest(url, { ...httpOptions<"GET">(timeoutMs, fetcher, url.protocol === "http:"), algorithm });
      const meta = await o.processDiscoveryResponse(await expectedIssuer(url, response), response);
      if (typeof meta.token_endpoint !== "string") throw new Error("no token_endpoint in the metadata");
      return endpointsOf(meta);
    } catch (err) {
      failures.push(`${algorithm}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new Error(`discovery of ${issuer} failed (${failures.join("; ")})`);
}
