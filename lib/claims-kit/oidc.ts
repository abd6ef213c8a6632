/**
 * claims-kit/oidc: sessions that follow the identity provider. OIDC back-channel logout, the
 * OpenID Shared Signals receiver (SSF, CAEP, RISC), recent authentication and step-up (max_age,
 * acr_values, RFC 9470), claims from userinfo, linking by a verified email, and reading Auth.js
 * provider objects (profiles of the providers the kit knows).
 *
 * @packageDocumentation
 * @module claims-kit/oidc
 */
export { backchannelLogout, type BackchannelLogoutHandler, type BackchannelLogoutOptions, type BackchannelResult } from "./sessions/backchannel";
export { BACKCHANNEL_LOGOUT_EVENT, verifyLogoutToken, type BackchannelErrorCode, type LogoutClaims, type LogoutTokenOutcome, type VerifyLogoutTokenOptions } from "./sessions/logout-token";
export { sharedSignals, PollError, rfc8935Error, type PollReport, type SharedSignalsHandler } from "./sessions/ssf-delivery";
export { ssfMetadataUrl, type SharedSignalsOptions, type SharedSignalsResult } from "./sessions/shared-signals";
export { SECURITY_EVENT_TYPES, verifySecurityEvent, type SecurityEvent, type SecurityEventClaims, type SecurityEventName, type SecurityEventOutcome, type VerifySecurityEventOptions } from "./sessions/security-event";
export { DEFAULT_SECURITY_EFFECTS, type ReceivedSecurityEvent, type SecurityEffect, type SecurityEffectFunction, type SecurityEffectName, type SecurityEffectsKit, type SecurityEventOutcomeName } from "./sessions/ssf-effects";
export { parseSubject, type SimpleSubject, type SubjectId } from "./sessions/subjects";
export type { SsfErrorCode } from "./engine/errors";
export { AUTH_CLAIMS } from "./engine/auth-claims";
export { checkRecentAuth, stepUpFromChallenge, stepUpParams, type RecentAuthCode, type RecentAuthResult, type StepUpFloor, type StepUpParams, type StepUpRequirement } from "./sessions/recent-auth";
export { linkableEmail, type LinkableEmail } from "./sessions/email";
export { sameOriginPath } from "./sessions/return-path";
export { mergeUserinfo, USERINFO_CLAIMS, withUserinfo, type UserinfoProvider, type WithUserinfoOptions } from "./refresh/userinfo";
export { fromAuthjsProvider, PROVIDER_PROFILES, type AuthjsProviderConfig, type ProviderProfile } from "./refresh/profiles";
export type { ClientAuth, ClientPrivateKey, ProviderEndpoints } from "./refresh/oauth-client";
