// Minimal ambient types for the parts of oidc-provider@9 used by scripts/oidc/provider.ts.
// oidc-provider ships no TypeScript types and @types/oidc-provider does not track v9.
// Only what this project calls is declared; widen it here when using more of the API.

declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export type ClaimsResult = Record<string, unknown> & { sub: string };

  export interface Account {
    accountId: string;
    claims(
      use: string,
      scope: string,
      claims: Record<string, unknown>,
      rejected: string[],
    ): ClaimsResult | Promise<ClaimsResult>;
  }

  export interface OIDCClient {
    clientId: string;
    clientName?: string;
    clientAuthMethod: string;
    grantTypeAllowed(type: string): boolean;
  }

  /** AccessToken, RefreshToken, AuthorizationCode, ... as handed to configuration helpers. */
  export interface OIDCToken {
    kind: string;
    jti: string;
    accountId?: string;
    clientId?: string;
    grantId?: string;
    scope?: string;
    readonly scopes: Set<string>;
    consumed?: number;
  }

  export interface OIDCContext {
    route?: string;
    params?: Record<string, unknown>;
    client?: OIDCClient;
    entities: Record<string, unknown>;
    /** The session's authentication context class (step-up). */
    readonly acr?: string;
  }

  /** Koa context as seen by configuration helpers, events and provider.use() middleware. */
  export interface KoaContextWithOIDC {
    oidc?: OIDCContext;
    status: number;
    body: unknown;
    type: string;
    host: string;
    path: string;
    method: string;
  }

  export interface OIDCProviderError extends Error {
    error?: string;
    error_description?: string;
    error_detail?: string;
    status?: number;
    statusCode?: number;
  }

  export interface ErrorOut {
    error: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export type AdapterPayload = Record<string, unknown> & {
    grantId?: string;
    uid?: string;
    userCode?: string;
    jti?: string;
    consumed?: number;
  };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris?: string[];
    post_logout_redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
    subject_type?: "public" | "pairwise";
    sector_identifier_uri?: string;
    [key: string]: unknown;
  }

  export interface JWK {
    kty: string;
    [key: string]: unknown;
  }

  type Awaitable<T> = T | Promise<T>;
  type TTLFunction = (ctx: KoaContextWithOIDC, token: OIDCToken, client: OIDCClient) => number;

  export interface Configuration {
    adapter?: (name: string) => Adapter;
    clients?: ClientMetadata[];
    claims?: Record<string, string[] | null>;
    scopes?: string[];
    jwks?: { keys: JWK[] };
    cookies?: { keys?: string[] };
    pkce?: { required?: (ctx: KoaContextWithOIDC, client: OIDCClient) => boolean };
    conformIdTokenClaims?: boolean;
    rotateRefreshToken?: boolean;
    issueRefreshToken?: (
      ctx: KoaContextWithOIDC,
      client: OIDCClient,
      source: OIDCToken,
    ) => Awaitable<boolean>;
    expiresWithSession?: (ctx: KoaContextWithOIDC, source: OIDCToken) => Awaitable<boolean>;
    findAccount?: (
      ctx: KoaContextWithOIDC,
      id: string,
      token?: OIDCToken,
    ) => Awaitable<Account | undefined>;
    subjectTypes?: Array<"public" | "pairwise">;
    pairwiseIdentifier?: (
      ctx: KoaContextWithOIDC,
      accountId: string,
      client: OIDCClient,
    ) => Awaitable<string>;
    sectorIdentifierUriValidate?: (client: OIDCClient) => boolean;
    /** Outgoing requests (back-channel logout deliveries, remote JWKS). */
    fetch?: (url: URL | string, options: RequestInit) => Promise<Response>;
    acrValues?: string[];
    interactions?: { policy?: Prompt[]; url?: (ctx: KoaContextWithOIDC, interaction: unknown) => string };
    clientBasedCORS?: (ctx: KoaContextWithOIDC, origin: string, client: OIDCClient) => boolean;
    renderError?: (ctx: KoaContextWithOIDC, out: ErrorOut, error: Error) => Awaitable<void>;
    ttl?: Record<string, number | TTLFunction>;
    features?: {
      devInteractions?: { enabled: boolean };
      revocation?: {
        enabled: boolean;
        allowedPolicy?: (
          ctx: KoaContextWithOIDC,
          client: OIDCClient,
          token: OIDCToken,
        ) => Awaitable<boolean>;
      };
      introspection?: {
        enabled: boolean;
        allowedPolicy?: (
          ctx: KoaContextWithOIDC,
          client: OIDCClient,
          token: OIDCToken,
        ) => Awaitable<boolean>;
      };
      userinfo?: { enabled: boolean };
      rpInitiatedLogout?: {
        enabled: boolean;
        logoutSource?: (ctx: KoaContextWithOIDC, form: string) => Awaitable<void>;
        postLogoutSuccessSource?: (ctx: KoaContextWithOIDC) => Awaitable<void>;
      };
      [feature: string]: unknown;
    };
    [key: string]: unknown;
  }

  /** oidc-provider's interaction policy (prompts and their checks), for custom checks. */
  export class Check {
    static readonly REQUEST_PROMPT: true;
    static readonly NO_NEED_TO_PROMPT: false;
    constructor(reason: string, description: string, check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>);
  }
  export interface Prompt {
    name: string;
    checks: Check[];
  }
  export const interactionPolicy: {
    base(): Prompt[] & { get(name: string): Prompt | undefined };
    Check: typeof Check;
  };

  /** An end-user session at the provider (back-channel logout needs its sid per client). */
  export interface Session {
    accountId?: string;
    authorizations?: Record<string, { sid?: string; grantId?: string }>;
    sidFor(clientId: string): string | undefined;
    grantIdFor(clientId: string): string | undefined;
    destroy(): Promise<void>;
  }

  /** A client model as `Client.find` returns it. */
  export interface ClientModel extends OIDCClient {
    backchannelLogoutUri?: string;
    backchannelLogout(accountId: string, sid: string | undefined): Promise<void>;
  }

  export interface InteractionDetails {
    uid: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
  }

  export type ProviderMiddleware = (
    ctx: KoaContextWithOIDC,
    next: () => Promise<void>,
  ) => Promise<void>;

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    readonly Session: { find(id: string): Promise<Session | undefined> };
    readonly Client: { find(id: string): Promise<ClientModel | undefined> };
    readonly Grant: { find(id: string): Promise<{ destroy(): Promise<void> } | undefined> };
    readonly AccessToken: { revokeByGrantId(grantId: string): Promise<void> };
    readonly RefreshToken: { revokeByGrantId(grantId: string): Promise<void> };
    readonly AuthorizationCode: { revokeByGrantId(grantId: string): Promise<void> };
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
    use(middleware: ProviderMiddleware): this;
    on(event: "grant.success", listener: (ctx: KoaContextWithOIDC) => void): this;
    on(
      event: "grant.error" | "server_error" | "revocation.error",
      listener: (ctx: KoaContextWithOIDC, error: OIDCProviderError) => void,
    ): this;
    on(event: "backchannel.error", listener: (ctx: KoaContextWithOIDC, error: Error) => void): this;
    on(
      event: "grant.revoked",
      listener: (ctx: KoaContextWithOIDC, grantId: string) => void,
    ): this;
  }

  export default Provider;
}
