// The toolkit's framework-neutral entry: core, plugins, stores. Next-aware helpers live in
// ./next/server (server only) and ./next/client ("use client").
export { claimsKit, PROTECTED_CLAIMS, REFRESH_INTENT, SERVER_INTENT } from "./core/compose";
export type { ClaimsKit, ClaimsKitOptions, JwtParams, SessionParams, TokenOf, SessionOf, IntentsOfKit, ServerDataOf } from "./core/compose";
export { claim, is } from "./core/claim";
export { linkableEmail, type LinkableEmail } from "./core/email";
export { ClaimsKitError, type KitErrorCode, type KitErrorRecord } from "./core/errors";
export { schema, stringFields } from "./core/schema";
export type * from "./core/types";
export { appClaims } from "./plugins/app-claims";
export { roles } from "./plugins/roles";
export { definePermissions, permissions, type PermissionSet } from "./plugins/permissions";
export { tenant } from "./plugins/tenant";
export { sizeBudget, type OverflowPolicy, type SizeBudgetOptions } from "./plugins/size-budget";
export { measureToken, jweLength, payloadBytes, AUTHJS_CHUNK_SIZE, type TokenMeasure } from "./core/measure";
export { prismaServerDataStore, memoryServerDataStore, mergePatch } from "./stores/prisma-server-data";
export { prismaSessionRegistry, type RawSqlClient } from "./stores/prisma-sessions";
export { oauthRefresh, type OAuthRefreshOptions, type OAuthRefreshPlugin, type AccessTokenInfo } from "./plugins/oauth-refresh";
export { prismaTokenVault, type TokenVault, type VaultEntry, type AccountRef } from "./stores/prisma-token-vault";
export { processRefreshResponse, requestRefresh, discover, type RefreshErrorCode, type TokenEndpointResult, type TokenSet } from "./refresh/token-endpoint";
export { singleFlight } from "./refresh/single-flight";
