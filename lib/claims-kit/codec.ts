/**
 * Node-only entry: Auth.js's session-token codec on node:crypto (route handlers, server
 * components and Next 16's proxy all run on Node). Nothing here is imported by the main entry.
 *
 * @packageDocumentation
 * @module claims-kit/codec
 */
export { sessionCodec, type CodecErrorCode, type OpenedToken, type SessionCodec, type SessionCodecOptions } from "./codec/session-codec";
export { sessionKeys, type SessionKeys } from "./codec/keys";
