// The toolkit's framework-neutral entry: the kit, claims, builders and the ports its stores
// implement. Next-aware helpers: ./next/server (server only), ./next/client ("use client"),
// ./next/proxy. Prisma stores: ./prisma. Permission checks for any environment: ./access.
export { claimsKit, type ClaimsKit, type SessionOf, type TokenOf, type IntentsOfKit, type ServerDataOf, type PatchOfKit } from "./core/kit";
export { PROTECTED_CLAIMS, REFRESH_INTENT, type ClaimsKitOptions, type TokenBudget, type BudgetInput, type BudgetDecision } from "./core/compile";
export type { JwtParams, SessionParams } from "./core/callbacks";
export { claim, is } from "./core/claim";
export { schema } from "./core/schema";
export { linkableEmail, type LinkableEmail } from "./core/email";
export { sameOriginPath } from "./core/return-path";
export { expireRemoved, guardAuthRequest, type AuthRequestGuardOptions } from "./core/callback-guard";
export { ClaimsKitError, type KitErrorCode, type SignInErrorCode, type StartupErrorCode, type StepErrorCode, type UpdateErrorCode } from "./core/errors";
export type { AccessTokenInfo, AccessTokenSource, ChangeFeed, ChangeLog, RegistryChange, ProviderSession, ReplayStore, RevokeWhere, ServerDataStore, SessionEndCause, SessionInfo, SessionRegistry, SessionState } from "./core/ports";
export { backchannelLogout, type BackchannelLogoutHandler, type BackchannelLogoutOptions, type BackchannelResult } from "./core/backchannel";
export { BACKCHANNEL_LOGOUT_EVENT, verifyLogoutToken, type BackchannelErrorCode, type LogoutClaims, type LogoutTokenOutcome, type VerifyLogoutTokenOptions } from "./core/logout-token";
export { AUTH_CLAIMS } from "./core/auth-claims";
export { checkRecentAuth, stepUpFromChallenge, stepUpParams, type RecentAuthCode, type RecentAuthResult, type StepUpParams, type StepUpRequirement } from "./core/recent-auth";
export type {
  AnyPlugin,
  Awaitable,
  BaseContext,
  ClaimMap,
  ClaimSpec,
  ClaimsPlugin,
  IntentSpec,
  KitLogger,
  KitSession,
  LoadContext,
  LoadReason,
  Patch,
  RequestContext,
  RequestInfo,
  StandardSchemaV1,
  TokenView,
  Visibility,
} from "./core/types";
export { appClaims, type AppClaimsDefinition } from "./plugins/app-claims";
export { roles, type RolesOptions } from "./plugins/roles";
export { definePermissions, permissions, type PermissionSet, type PermissionsOptions } from "./plugins/permissions";
export { tenant, type TenantErrorCode, type TenantOptions } from "./plugins/tenant";
export { sizeBudget, type BudgetErrorCode, type OverflowPolicy, type SizeBudgetOptions } from "./plugins/size-budget";
export { measureToken, type TokenMeasure } from "./core/measure";
export { memoryReplayStore, memoryServerDataStore, memorySessionRegistry } from "./stores/memory";
export { cachedSessionRegistry, type CachedRegistryOptions, type RegistryCacheStats } from "./core/registry-cache";
export { inProcessChangeFeed } from "./stores/change-feeds";
export { oauthRefresh } from "./plugins/oauth-refresh";
export type { OAuthErrorCode, OAuthRefreshOptions, OAuthRefreshPlugin } from "./refresh/options";
export type { RevokeOutcome, RevokeUserResult, StopCode } from "./refresh/types";
export { fromAuthjsProvider, PROVIDER_PROFILES, type AuthjsProviderConfig, type ProviderProfile } from "./refresh/profiles";
export { mergeUserinfo, USERINFO_CLAIMS, withUserinfo, type UserinfoProvider, type WithUserinfoOptions } from "./refresh/userinfo";
export type { ClientAuth, ClientPrivateKey, ProviderEndpoints } from "./refresh/oauth-client";
export type { AccountRef, TokenSet, TokenVault, VaultBackoff, VaultEntry } from "./core/ports";
export type { BackoffState } from "./refresh/backoff";
