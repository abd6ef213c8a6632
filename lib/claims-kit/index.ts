/**
 * claims-kit: what an app's auth configuration needs. The kit, claims and the builders (roles,
 * tenants, permissions, app claims, OAuth refresh, the size budget), the error class and the types
 * apps read sessions with. The other entries:
 * - `claims-kit/plugin`: writing plugins and stores: contexts, ports, memory stores, the registry cache
 * - `claims-kit/oidc`: sessions that follow the provider: back-channel logout, step-up, userinfo, profiles
 * - `claims-kit/next/server`: `nextClaimsKit()`: Auth.js, the route handlers, `auth()` and the proxy in one call
 * - `claims-kit/next/client`: `useClaims()`, `SessionSync`
 * - `claims-kit/prisma`: the Prisma stores
 * - `claims-kit/redis`: the Redis change feed
 * - `claims-kit/codec`: the session-cookie codec
 * - `claims-kit/access`: permission catalogs and checks, for client and server code
 *
 * @packageDocumentation
 * @module claims-kit
 */
export { claimsKit, type ClaimsKit, type IntentsOfKit, type PatchOfKit, type ServerDataOf, type SessionOf, type TokenOf } from "./engine/kit";
export { REFRESH_INTENT, type ClaimsKitOptions } from "./engine/compile";
export type { PurgeOptions, PurgeResult } from "./engine/retention";
export { claim, is } from "./engine/claim";
export { schema } from "./engine/schema";
export {
  ClaimsKitError,
  ERROR_CODES,
  type BudgetErrorCode,
  type ClientErrorCode,
  type KitErrorCode,
  type OAuthErrorCode,
  type Refusal,
  type Result,
  type RetentionErrorCode,
  type SignInErrorCode,
  type StartupErrorCode,
  type StepErrorCode,
  type TenantErrorCode,
  type UpdateErrorCode,
} from "./engine/errors";
export type { KitLogger, KitSession, RequestInfo, Visibility } from "./engine/types";
export { appClaims, type AppClaimsDefinition } from "./plugins/app-claims";
export { roles, type RolesOptions } from "./plugins/roles";
export { permissions, type PermissionsOptions } from "./plugins/permissions";
export { tenant, type TenantOptions } from "./plugins/tenant";
export { sizeBudget, type OverflowPolicy, type SizeBudgetOptions } from "./plugins/size-budget";
export { oauthRefresh } from "./plugins/oauth-refresh";
export type { LinkedAccount, OAuthRefreshOptions, OAuthRefreshPlugin } from "./refresh/options";
export type { RevokeUserResult, StopCode } from "./refresh/types";
