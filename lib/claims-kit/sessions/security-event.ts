// Security Event Tokens (RFC 8417) as the OpenID Shared Signals Framework 1.0 profiles them:
// validated as strictly as a logout token. The processing step only: keys come in as a jose key
// getter, the clock as a number, and every refusal carries a stable code.
import type { JWTPayload, JWTVerifyGetKey } from "jose";
import type { Result, SsfErrorCode } from "../engine/errors";
import { verifySignedJwt, type JwtFailure } from "./signed-jwt";
import { parseSubject, sameJson, type SubjectId } from "./subjects";

const CAEP = "https://schemas.openid.net/secevent/caep/event-type/";
const RISC = "https://schemas.openid.net/secevent/risc/event-type/";
const SSF = "https://schemas.openid.net/secevent/ssf/event-type/";

/**
 * The event types of SSF 1.0, CAEP 1.0 and RISC 1.0, by short name (what `effects` is keyed by).
 *
 * @example
 * ```ts
 * const payload = { events: { [SECURITY_EVENT_TYPES["session-revoked"]]: {} } };
 * ```
 */
export const SECURITY_EVENT_TYPES = {
  verification: `${SSF}verification`,
  "stream-updated": `${SSF}stream-updated`,
  "session-revoked": `${CAEP}session-revoked`,
  "token-claims-change": `${CAEP}token-claims-change`,
  "credential-change": `${CAEP}credential-change`,
  "assurance-level-change": `${CAEP}assurance-level-change`,
  "device-compliance-change": `${CAEP}device-compliance-change`,
  "session-established": `${CAEP}session-established`,
  "session-presented": `${CAEP}session-presented`,
  "risk-level-change": `${CAEP}risk-level-change`,
  "account-credential-change-required": `${RISC}account-credential-change-required`,
  "account-purged": `${RISC}account-purged`,
  "account-disabled": `${RISC}account-disabled`,
  "account-enabled": `${RISC}account-enabled`,
  "identifier-changed": `${RISC}identifier-changed`,
  "identifier-recycled": `${RISC}identifier-recycled`,
  "credential-compromise": `${RISC}credential-compromise`,
  "opt-in": `${RISC}opt-in`,
  "opt-out-initiated": `${RISC}opt-out-initiated`,
  "opt-out-cancelled": `${RISC}opt-out-cancelled`,
  "opt-out-effective": `${RISC}opt-out-effective`,
  "recovery-activated": `${RISC}recovery-activated`,
  "recovery-information-changed": `${RISC}recovery-information-changed`,
  "sessions-revoked": `${RISC}sessions-revoked`,
} as const;

/** A known event type's short name. */
export type SecurityEventName = keyof typeof SECURITY_EVENT_TYPES;

const NAMES: ReadonlyMap<string, SecurityEventName> = new Map(Object.entries(SECURITY_EVENT_TYPES).map(([name, uri]) => [uri, name as SecurityEventName]));

/** The short name of a known event type URI, or undefined. */
export const eventName = (uri: string): SecurityEventName | undefined => NAMES.get(uri);

/** One event of a SET: its type URI, short name when known, and payload (the event object). */
export interface SecurityEvent {
  type: string;
  name?: SecurityEventName;
  payload: Readonly<Record<string, unknown>>;
}

/** What a valid SET says. Times in seconds since the epoch. */
export interface SecurityEventClaims {
  iss: string;
  jti: string;
  iat: number;
  txn?: string;
  /** The `sub_id` claim, read (RFC 9493 / SSF complex). */
  subject: SubjectId;
  events: SecurityEvent[];
}

/** Options of {@link verifySecurityEvent}. */
export interface VerifySecurityEventOptions {
  /** The transmitter's issuer, exactly as its metadata says it. */
  issuer: string;
  /** This receiver's audience value(s): the SET's `aud` must contain one. */
  audience: string | readonly string[];
  /** The transmitter's signing keys (jose's `createRemoteJWKSet` of its `jwks_uri`). */
  keys: JWTVerifyGetKey;
  /** Accepted signing algorithms. Never `none` or HMAC. */
  algorithms: readonly string[];
  /** Refuse SETs issued more than this many seconds ago. */
  maxAge: number;
  /** Seconds of clock skew tolerated on `iat`. */
  clockTolerance: number;
  /** Seconds since the epoch. */
  now: number;
}

/** The outcome of {@link verifySecurityEvent}. */
export type SecurityEventOutcome = Result<{ claims: SecurityEventClaims }, SsfErrorCode, { detail: string }>;

/** At most this many events in one SET (SSF: one, or alternative URIs of the same event). */
const MAX_EVENTS = 5;

const refuse = (code: SsfErrorCode, detail: string): SecurityEventOutcome => ({ ok: false, kind: code === "transmitter_unavailable" ? "failed" : "refused", code, detail });
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `typ` `secevent+jwt` (RFC 8417 2.3, required by SSF), any case, `application/` optional. */
const typAllowed = (typ: unknown) => typeof typ === "string" && typ.toLowerCase().replace(/^application\//, "") === "secevent+jwt";

/** The shared checks' failures, as SSF codes (an `exp` jose found past is one a SET must not carry). */
const CODES: Readonly<Record<JwtFailure, SsfErrorCode>> = {
  malformed: "malformed_token",
  alg: "unsupported_alg",
  unsupported: "malformed_token",
  typ: "invalid_typ",
  signature: "invalid_signature",
  issuer: "invalid_issuer",
  audience: "invalid_audience",
  too_old: "expired",
  iat: "invalid_iat",
  expired: "forbidden_claim",
  keys: "transmitter_unavailable",
};

/** Required members of the events whose payload the kit acts on (CAEP 1.0, SSF 1.0). */
function payloadProblem(name: SecurityEventName | undefined, p: Readonly<Record<string, unknown>>): string | null {
  const oneOf = (key: string, values: readonly string[]) => (typeof p[key] === "string" && values.includes(p[key] as string) ? null : `${key} must be one of ${values.join(", ")}`);
  const text = (key: string) => (typeof p[key] === "string" && (p[key] as string).length > 0 ? null : `${key} is required`);
  switch (name) {
    case "token-claims-change":
      return isRecord(p.claims) ? null : "claims must be an object";
    case "credential-change":
      return text("credential_type") ?? oneOf("change_type", ["create", "revoke", "update", "delete"]);
    case "assurance-level-change":
      return text("namespace") ?? text("current_level") ?? (p.change_direction === undefined ? null : oneOf("change_direction", ["increase", "decrease"]));
    case "device-compliance-change":
      return oneOf("previous_status", ["compliant", "not-compliant"]) ?? oneOf("current_status", ["compliant", "not-compliant"]);
    case "stream-updated":
      return oneOf("status", ["enabled", "paused", "disabled"]);
    case "verification":
      return p.state === undefined || (typeof p.state === "string" && p.state.length <= 1024) ? null : "state must be a string";
    default:
      return null;
  }
}

/**
 * Validate a Security Event Token as SSF 1.0 profiles it: a signed JWT (an allowed asymmetric
 * algorithm, never `none`), `typ` `secevent+jwt`, from `issuer`, for `audience`, issued within
 * `maxAge` (and not in the future), with a `jti`, no `sub`, `exp` or `nonce` (an id_token, a
 * logout token or an access token is not a SET), a top-level `sub_id` (RFC 9493) that any event's
 * own `subject` repeats exactly, and 1 to 5 events whose payloads conform to their type (a
 * verification or stream-updated event alone). Replay detection (`jti` seen once) is the
 * caller's: it needs shared storage.
 *
 * @example
 * ```ts
 * const r = await verifySecurityEvent(token, { issuer, audience: "https://app.example", keys, algorithms: ["RS256", "ES256"], maxAge: 300, clockTolerance: 30, now });
 * if (r.ok) console.log(r.claims.events.map((e) => e.name ?? e.type));
 * ```
 */
export async function verifySecurityEvent(token: string, options: VerifySecurityEventOptions): Promise<SecurityEventOutcome> {
  if (token.length === 0) return refuse("missing_token", "no SET in the body");
  const verified = await verifySignedJwt(token, { ...options, typ: { allowed: typAllowed, name: "secevent+jwt" } });
  if (!verified.ok) return refuse(CODES[verified.failure], verified.failure === "expired" ? "a SET carries no exp (SSF 1.0)" : verified.detail);
  return checkClaims(verified.payload);
}

/** The claims a signature cannot vouch for on its own: what makes a JWT an SSF event. */
function checkClaims(payload: JWTPayload): SecurityEventOutcome {
  if (typeof payload.iat !== "number") return refuse("invalid_iat", "the SET has no iat");
  for (const claim of ["sub", "exp", "nonce"]) if (claim in payload) return refuse("forbidden_claim", `a SET carries no ${claim} (SSF 1.0)`);
  if (typeof payload.jti !== "string" || payload.jti.length === 0 || payload.jti.length > 256) return refuse("missing_jti", "the SET has no jti (a string of 1 to 256 characters)");
  const raw = payload.events;
  const entries = isRecord(raw) ? Object.entries(raw) : [];
  if (entries.length === 0 || entries.length > MAX_EVENTS) return refuse("invalid_events", `events must map 1 to ${MAX_EVENTS} event-type URIs to objects`);
  const subject = parseSubject(payload.sub_id);
  if (typeof subject === "string") return refuse("invalid_subject", subject);
  const events: SecurityEvent[] = [];
  for (const [type, body] of entries) {
    if (!isRecord(body) || type.length > 255 || !/^[a-z][\w+.-]*:\S+$/i.test(type)) return refuse("invalid_events", "each event is an event-type URI with an object");
    // Existing CAEP and RISC types may repeat the subject in the event; it must be the same one.
    if ("subject" in body && !sameJson(body.subject, payload.sub_id)) return refuse("invalid_subject", "an event's subject differs from sub_id");
    const name = eventName(type);
    const problem = payloadProblem(name, body);
    if (problem) return refuse("invalid_events", `${name}: ${problem}`);
    events.push({ type, ...(name ? { name } : {}), payload: body });
  }
  // A stream event is the receiver's own business and may be refused after an effect ran: alone, or not at all.
  if (events.length > 1 && events.some((e) => e.name === "verification" || e.name === "stream-updated")) return refuse("invalid_events", "a verification or stream-updated event comes alone in its SET");
  return {
    ok: true,
    // Whole seconds: a NumericDate may have a fraction, and the stores keep integers.
    claims: { iss: payload.iss!, jti: payload.jti, iat: Math.floor(payload.iat), ...(typeof payload.txn === "string" ? { txn: payload.txn } : {}), subject, events },
  };
}
