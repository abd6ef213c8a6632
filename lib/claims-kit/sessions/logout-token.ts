// OIDC Back-Channel Logout 1.0, section 2.6: validating a logout token. The processing step only:
// keys come in as a jose key getter (remote JWKS in production, a local set in tests), the clock
// as a number, and every refusal carries a stable code.
import type { BackchannelErrorCode, Result } from "../engine/errors";
import type { JWTPayload, JWTVerifyGetKey } from "jose";
import { verifySignedJwt, type JwtFailure } from "./signed-jwt";

/**
 * The `events` member that marks a JWT as a back-channel logout token.
 *
 * @example
 * ```ts
 * const payload = { iss, aud, iat, jti, sid, events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } };
 * ```
 */
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";


/** What a valid logout token says: which provider session (`sid`) and/or subject (`sub`) ended. */
export interface LogoutClaims {
  iss: string;
  sub?: string;
  sid?: string;
  jti: string;
  /** Seconds since the epoch. */
  iat: number;
  exp?: number;
}

/** Options of {@link verifyLogoutToken}. */
export interface VerifyLogoutTokenOptions {
  /** The provider's issuer, exactly as its id_tokens carry it. */
  issuer: string;
  /** This client's id: the token's `aud` must contain it. */
  clientId: string;
  /** The provider's signing keys (e.g. jose's `createRemoteJWKSet` of its `jwks_uri`). */
  keys: JWTVerifyGetKey;
  /** Accepted signing algorithms (the client's `id_token_signed_response_alg`). Never `none`. */
  algorithms: readonly string[];
  /** Refuse tokens issued more than this many seconds ago. */
  maxAge: number;
  /** Seconds of clock skew tolerated on `iat`/`exp`. */
  clockTolerance: number;
  /** Seconds since the epoch. */
  now: number;
}

/** The outcome of {@link verifyLogoutToken}. */
export type LogoutTokenOutcome = Result<{ claims: LogoutClaims }, BackchannelErrorCode, { detail: string }>;

const refuse = (code: BackchannelErrorCode, detail: string): LogoutTokenOutcome => ({ ok: false, kind: "refused", code, detail });

/** `typ` as the spec allows it: absent, `JWT`, or `logout+jwt` (any case, `application/` optional). */
function typAllowed(typ: unknown): boolean {
  if (typ === undefined) return true;
  if (typeof typ !== "string") return false;
  const t = typ.toLowerCase().replace(/^application\//, "");
  return t === "logout+jwt" || t === "jwt";
}

/** The shared checks' failures, as logout-token codes. */
const CODES: Readonly<Record<JwtFailure, BackchannelErrorCode>> = {
  malformed: "malformed_token",
  alg: "unsupported_alg",
  unsupported: "unsupported_alg",
  typ: "invalid_typ",
  signature: "invalid_signature",
  issuer: "invalid_issuer",
  audience: "invalid_audience",
  too_old: "invalid_iat",
  iat: "invalid_iat",
  expired: "expired",
  keys: "provider_unavailable",
};

/**
 * Validate a logout token (Back-Channel Logout 1.0, 2.6): a signed JWT (never `alg: none`, never
 * encrypted here) from `issuer` for `clientId`, issued within `maxAge`, not expired, with a `jti`,
 * the back-channel logout event, no `nonce` (an id_token is not a logout token), and a `sid` and/or
 * `sub`. Replay detection (`jti` seen once) is the caller's: it needs shared storage.
 *
 * @example
 * ```ts
 * const r = await verifyLogoutToken(token, { issuer, clientId, keys: createRemoteJWKSet(jwksUri), algorithms: ["RS256"], maxAge: 120, clockTolerance: 30, now });
 * if (r.ok) await kit.sessions.revokeByProvider({ issuer: r.claims.iss, sid: r.claims.sid, subject: r.claims.sub });
 * ```
 */
export async function verifyLogoutToken(token: string, options: VerifyLogoutTokenOptions): Promise<LogoutTokenOutcome> {
  if (token.length === 0) return refuse("missing_token", "no logout_token");
  const verified = await verifySignedJwt(token, {
    issuer: options.issuer,
    audience: options.clientId,
    keys: options.keys,
    algorithms: options.algorithms,
    maxAge: options.maxAge,
    clockTolerance: options.clockTolerance,
    now: options.now,
    typ: { allowed: typAllowed, name: "a logout token's" },
  });
  if (!verified.ok) return refuse(CODES[verified.failure], verified.detail);
  return checkClaims(verified.payload);
}

/** The claims a signature cannot vouch for on its own: what makes a JWT a logout token. */
function checkClaims(payload: JWTPayload): LogoutTokenOutcome {
  if (typeof payload.iat !== "number") return refuse("invalid_iat", "the logout token has no iat");
  if (typeof payload.jti !== "string" || payload.jti.length === 0) return refuse("missing_jti", "the logout token has no jti");
  const events = payload.events;
  const event = typeof events === "object" && events !== null && !Array.isArray(events) ? (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    return refuse("invalid_events", `events must contain ${BACKCHANNEL_LOGOUT_EVENT} with a JSON object`);
  }
  if ("nonce" in payload) return refuse("nonce_present", "a logout token must not contain a nonce");
  const sub = typeof payload.sub === "string" && payload.sub.length > 0 ? payload.sub : undefined;
  const sid = typeof payload.sid === "string" && payload.sid.length > 0 ? payload.sid : undefined;
  if (!sub && !sid) return refuse("missing_subject", "the logout token names neither sid nor sub");
  return {
    ok: true,
    // Whole seconds: a NumericDate may have a fraction, and the stores keep integers.
    claims: { iss: payload.iss!, jti: payload.jti, iat: Math.floor(payload.iat), ...(typeof payload.exp === "number" ? { exp: Math.ceil(payload.exp) } : {}), ...(sub ? { sub } : {}), ...(sid ? { sid } : {}) },
  };
}

export type { BackchannelErrorCode };
