// Provider profiles: what the kit derives from an Auth.js provider object (`Google()`,
// `MicrosoftEntraID()`, `Keycloak()`, `Auth0()`, `Okta()`, `GitHub()`, or any OIDC/OAuth config),
// and what each provider needs before it hands out a refresh token.
import type { ClientAuth, ClientPrivateKey } from "./oauth-client";

/**
 * The parts of an Auth.js provider config (`OAuthConfig`/`OIDCConfig`) the kit reads. Auth.js
 * merges `options` (what the app passed to `Google({...})`) over the provider's defaults; so does
 * the kit, and like Auth.js it falls back to `AUTH_<ID>_ID`, `AUTH_<ID>_SECRET`, `AUTH_<ID>_ISSUER`.
 *
 * @example
 * ```ts
 * import Google from "next-auth/providers/google";
 * const google: AuthjsProviderConfig = Google({ clientId, clientSecret });
 * ```
 */
export interface AuthjsProviderConfig {
  id: string;
  type?: string;
  issuer?: string;
  /** Auth.js reads `private_key_jwt`'s key from `token.clientPrivateKey`; so does the kit. */
  token?: string | URL | { url?: string | URL; clientPrivateKey?: ClientPrivateKey };
  clientId?: string;
  clientSecret?: string;
  client?: { token_endpoint_auth_method?: string };
  options?: object;
}

/**
 * How a provider treats refresh tokens, as documented by the provider and tested against the
 * bundled provider configured to answer the same way (see the README's profile table).
 *
 * @example
 * ```ts
 * PROVIDER_PROFILES.google.rotation; // "never"
 * ```
 */
export interface ProviderProfile {
  /** never: the same refresh token for every refresh; always: a new one each time (the old one may stay valid for a grace period); configurable: a server setting. */
  rotation: "never" | "always" | "configurable";
  /** What sign-in must ask for to get a refresh token: named in the warning when none came. */
  offline: string;
  /** OpenID Connect (discovery, id_token) or plain OAuth 2 (a fixed token endpoint). */
  oidc: boolean;
  /**
   * The id_token may lack the profile claims (email, name) that the userinfo endpoint returns
   * (OIDC Core 5.4): `withUserinfo()` then fetches and merges them at sign-in. Off when unset.
   */
  thinIdToken?: boolean;
}

/**
 * The providers whose quirks the kit knows. Any other provider works from its discovery document
 * (OIDC) or its token endpoint (OAuth 2) with the defaults; `withUserinfo()` treats any other OIDC
 * provider as one whose id_token may be thin (LemonLDAP::NG's is by default).
 *
 * @example
 * ```ts
 * const profile = PROVIDER_PROFILES["microsoft-entra-id"];
 * ```
 */
export const PROVIDER_PROFILES: Readonly<Record<string, ProviderProfile>> = {
  google: { rotation: "never", offline: "access_type=offline and prompt=consent in the authorization params (a refresh token comes with the first consent only)", oidc: true },
  "microsoft-entra-id": { rotation: "always", offline: "the offline_access scope", oidc: true },
  keycloak: { rotation: "configurable", offline: "nothing for a normal refresh token (the offline_access scope gives an offline token)", oidc: true },
  auth0: { rotation: "configurable", offline: "the offline_access scope, and Allow Offline Access on the API", oidc: true },
  // The org authorization server issues a "thin" id_token (sub and a few claims) when it also issues
  // an access token: email and name come from userinfo.
  okta: { rotation: "configurable", offline: "the offline_access scope, and the Refresh Token grant enabled on the app", oidc: true, thinIdToken: true },
  github: { rotation: "always", offline: "a GitHub App with expiring user tokens (OAuth Apps' tokens never expire and have no refresh token)", oidc: false },
};

/** What the kit takes from a provider config: fills options the app did not set. */
export interface DerivedOptions {
  provider: string;
  issuer?: string;
  tokenEndpoint?: string;
  clientId?: string;
  clientSecret?: string;
  clientAuth?: ClientAuth;
  clientPrivateKey?: ClientPrivateKey;
  profile?: ProviderProfile;
}

const urlOf = (token: AuthjsProviderConfig["token"]): string | undefined => {
  const value = typeof token === "object" && token !== null && !(token instanceof URL) ? token.url : token;
  // Auth.js's placeholder for "discover it" (a normalized provider whose token has no url).
  return value && new URL(String(value)).host !== "authjs.dev" ? String(value) : undefined;
};

/**
 * Read an Auth.js provider config the way Auth.js does (options over defaults, then the
 * `AUTH_<ID>_*` variables of `env`). `NextAuth()` fills those into the provider object itself when
 * it starts, so a provider read after that (the lazy `oauthRefresh(() => options)`) needs no `env`;
 * the kit never reads `process.env`. OIDC providers are discovered from their issuer; OAuth 2
 * providers (GitHub) use their token endpoint and are never discovered.
 *
 * @example
 * ```ts
 * fromAuthjsProvider(GitHub({ clientId, clientSecret }));
 * // { provider: "github", tokenEndpoint: "https://github.com/login/oauth/access_token", clientId, clientSecret, profile }
 * ```
 */
export function fromAuthjsProvider(config: AuthjsProviderConfig, env: Readonly<Record<string, string | undefined>> = {}): DerivedOptions {
  const merged = { ...config, ...(config.options ?? {}) } as AuthjsProviderConfig;
  const prefix = `AUTH_${merged.id.toUpperCase().replace(/-/g, "_")}_`;
  const oidc = (merged.type ?? "oidc") === "oidc";
  const issuer = merged.issuer ?? env[`${prefix}ISSUER`];
  const tokenEndpoint = urlOf(merged.token);
  const method = merged.client?.token_endpoint_auth_method;
  const derived: DerivedOptions = { provider: merged.id };
  const set = <K extends keyof DerivedOptions>(key: K, value: DerivedOptions[K] | undefined) => {
    if (value !== undefined && value !== "") derived[key] = value;
  };
  // An OAuth 2 provider's `issuer` (GitHub's is a made-up URL) has no metadata to discover.
  set("issuer", oidc ? issuer : undefined);
  set("tokenEndpoint", tokenEndpoint);
  set("clientId", merged.clientId ?? env[`${prefix}ID`]);
  set("clientSecret", merged.clientSecret ?? env[`${prefix}SECRET`]);
  // Passed on as given: a method the kit cannot send is refused at start-up (option "clientAuth"),
  // as Auth.js refuses it at sign-in.
  set("clientAuth", method as ClientAuth | undefined);
  const token = merged.token;
  set("clientPrivateKey", typeof token === "object" && token !== null && !(token instanceof URL) ? token.clientPrivateKey : undefined);
  set("profile", PROVIDER_PROFILES[merged.id]);
  return derived;
}
