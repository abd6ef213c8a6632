// The toolkit's framework-neutral entry: the kit, claims, builders and the ports its stores
// implement. Next-aware helpers: ./next/server (server only), ./next/client ("use client"),
// ./next/proxy. Prisma stores: ./prisma. Permission checks for any environment: ./access.
export { claimsKit, type ClaimsKit, type SessionOf, type TokenOf, type IntentsOfKit, type ServerDataOf, type PatchOfKit } from "./engine/kit";
export { PROTECTED_CLAIMS, REFRESH_INTENT, type ClaimsKitOptions, type TokenBudget, type BudgetInput, type BudgetDecision } from "./engine/compile";
export type { JwtParams, SessionParams } from "./engine/callbacks";
export { claim, is } from "./engine/claim";
export { schema } from "./engine/schema";
export { linkableEmail, type LinkableEmail } from "./sessions/email";
export { sameOriginPath } from "./sessions/return-path";
export { expireRemoved, guardAuthRequest, type AuthRequestGuardOptions } from "./next/internal/route-guard";
export { ClaimsKitError, type KitErrorCode, type SignInErrorCode, type StartupErrorCode, type StepErrorCode, type UpdateErrorCode } from "./engine/errors";
export type { AccessTokenInfo, AccessTokenSource, ChangeFeed, ChangeLog, RegistryChange, ProviderSession, ReplayStore, RevokeWhere, ServerDataStore, SessionEndCause, SessionInfo, SessionRegistry, SessionState } from "./engine/ports";
export { backchannelLogout, type BackchannelLogoutHandler, type BackchannelLogoutOptions, type BackchannelResult } from "./sessions/backchannel";
export { BACKCHANNEL_LOGOUT_EVENT, verifyLogoutToken, type BackchannelErrorCode, type LogoutClaims, type LogoutTokenOutcome, type VerifyLogoutTokenOptions } from "./sessions/logout-token";
export { AUTH_CLAIMS } from "./engine/auth-claims";
export { checkRecentAuth, stepUpFromChallenge, stepUpParams, type RecentAuthCode, type RecentAuthResult, type StepUpParams, type StepUpRequirement } from "./sessions/recent-auth";
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
} from "./engine/types";
export { appClaims, type AppClaimsDefinition } from "./plugins/app-claims";
export { roles, type RolesOptions } from "./plugins/roles";
export { definePermissions, permissions, type PermissionSet, type PermissionsOptions } from "./plugins/permissions";
export { tenant, type TenantErrorCode, type TenantOptions } from "./plugins/tenant";
export { sizeBudget, type BudgetErrorCode, type OverflowPolicy, type SizeBudgetOptions } from "./plugins/size-budget";
export { measureToken, type TokenMeasure } from "./cookie/measure";
export { memoryReplayStore, memoryServerDataStore, memorySessionRegistry } from "./stores/memory";
export { cachedSessionRegistry, type CachedRegistryOptions, type RegistryCacheStats } from "./stores/registry-cache";
export { inProcessChangeFeed } from "./stores/change-feeds";
export { oauthRefresh } from "./plugins/oauth-refresh";
export type { OAuthErrorCode, OAuthRefreshOptions, OAuthRefreshPlugin } from "./refresh/options";
export type { RevokeOutcome, RevokeUserResult, StopCode } from "./refresh/types";
export { fromAuthjsProvider, PROVIDER_PROFILES, type AuthjsProviderConfig, type ProviderProfile } from "./refresh/profiles";
export { mergeUserinfo, USERINFO_CLAIMS, withUserinfo, type UserinfoProvider, type WithUserinfoOptions } from "./refresh/userinfo";
export type { ClientAuth, ClientPrivateKey, ProviderEndpoints } from "./refresh/oauth-client";
export type { AccountRef, TokenSet, TokenVault, VaultBackoff, VaultEntry } from "./engine/ports";
export type { BackoffState } from "./refresh/backoff";
