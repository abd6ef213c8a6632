/**
 * claims-kit/plugin: for plugin and store authors. The plugin unit and its contexts, the ports the
 * stores implement (sessions, server-side data, the token vault, replays, the change log, the security-event log), the
 * size-budget interface, the in-memory stores and the registry cache over any registry.
 *
 * @packageDocumentation
 * @module claims-kit/plugin
 */
export type {
  AnyPlugin,
  Awaitable,
  BaseContext,
  ClaimMap,
  ClaimSpec,
  ClaimsPlugin,
  IntentSpec,
  LoadContext,
  LoadReason,
  Patch,
  RequestContext,
  StandardSchemaV1,
  TokenView,
} from "./engine/types";
export { PROTECTED_CLAIMS, type BudgetDecision, type BudgetInput, type TokenBudget } from "./engine/compile";
export type { JwtParams, SessionParams } from "./engine/callbacks";
export type {
  AccessTokenInfo,
  AccessTokenSource,
  AccountRef,
  ChangeFeed,
  ChangeLog,
  CheckHint,
  ProviderSession,
  RegistryChange,
  ReplayStore,
  RevokeWhere,
  SecurityEventLog,
  SecurityEventRecord,
  ServerDataStore,
  SessionEndCause,
  SessionInfo,
  SessionRegistry,
  SessionState,
  TokenSet,
  TokenVault,
  VaultBackoff,
  VaultEntry,
} from "./engine/ports";
export { measureToken, type TokenMeasure } from "./cookie/measure";
export { memoryReplayStore, memorySecurityEventLog, memoryServerDataStore, memorySessionRegistry } from "./stores/memory";
export { cachedSessionRegistry, type CachedRegistryOptions, type CachedSessionRegistry } from "./stores/registry-cache";
export { inProcessChangeFeed } from "./stores/change-feeds";
