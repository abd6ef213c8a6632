// What the browser stores for a token, computed exactly from Auth.js's encoding without
// encrypting: the session cookie is a compact JWE (alg "dir", enc "A256CBC-HS512") of the JSON
// payload plus iat/exp/jti, split into chunks of 3936 characters above that size.

/**
 * Auth.js's chunk size: 4096 allowed bytes minus an estimated 160 for name and attributes.
 *
 * @example
 * ```ts
 * Math.ceil(jweLength(bytes) / AUTHJS_CHUNK_SIZE); // cookie chunks
 * ```
 */
export const AUTHJS_CHUNK_SIZE = 3936;
/**
 * Auth.js's cookie attributes for the session token (what `Set-Cookie` carries besides the value).
 *
 * @example
 * ```ts
 * `authjs.session-token=...; ${SESSION_COOKIE_ATTRIBUTES}`
 * ```
 */
export const SESSION_COOKIE_ATTRIBUTES = "Path=/; HttpOnly; SameSite=Lax";

const encoder = new TextEncoder();
/** `{"alg":"dir","enc":"A256CBC-HS512","kid":"<86-char SHA-512 JWK thumbprint>"}` */
const PROTECTED_HEADER_BYTES = '{"alg":"dir","enc":"A256CBC-HS512","kid":""}'.length + 86;
const IV_BYTES = 16;
const TAG_BYTES = 32;
/** iat and exp (10 digits each) and a UUID jti, as Auth.js adds them on every encode. */
const REGISTERED = { iat: 1_800_000_000, exp: 1_800_000_000, jti: "00000000-0000-0000-0000-000000000000" };

/**
 * Length of unpadded base64url for `bytes` bytes.
 *
 * @example
 * ```ts
 * b64Length(16); // 22
 * ```
 */
export function b64Length(bytes: number): number {
  return Math.floor(bytes / 3) * 4 + [0, 2, 3][bytes % 3]!;
}

/**
 * Length of Auth.js's JWE for a payload of `payloadBytes` UTF-8 bytes.
 *
 * @example
 * ```ts
 * jweLength(payloadBytes(token)); // the cookie value's length
 * ```
 */
export function jweLength(payloadBytes: number): number {
  const ciphertext = 16 * (Math.floor(payloadBytes / 16) + 1); // AES-CBC with PKCS#7 padding
  return b64Length(PROTECTED_HEADER_BYTES) + 2 + b64Length(IV_BYTES) + 1 + b64Length(ciphertext) + 1 + b64Length(TAG_BYTES);
}

/**
 * Bytes of the JSON payload Auth.js encrypts for this token.
 *
 * @example
 * ```ts
 * payloadBytes({ sub: "u1" }); // bytes Auth.js encrypts, iat/exp/jti included
 * ```
 */
export function payloadBytes(token: Record<string, unknown>): number {
  return encoder.encode(JSON.stringify({ ...token, ...REGISTERED })).length;
}

/** One cookie as the browser stores it. */
export interface CookieShape {
  name: string;
  /** Characters of the value. */
  valueBytes: number;
}

/** The measured session cookie(s) of a token. */
export interface TokenMeasure {
  /** The cookies the browser stores: one, or `name.0`, `name.1`… when chunked. */
  cookies: CookieShape[];
  /** Bytes the cookies add to every request's `Cookie` header (`name=value` joined by `; `). */
  headerBytes: number;
  /** JSON payload bytes before encryption. */
  payloadBytes: number;
  /**
   * Each claim's share of the cookie: its `"name":value,` JSON bytes times the encryption's
   * base64url expansion. The shares add up to the payload's part of the cookie.
   */
  perClaim: Record<string, number>;
  attributes: string;
}

/**
 * Measure the session cookie(s) Auth.js would write for `token`.
 *
 * @example
 * ```ts
 * const m = measureToken(token, { secure: true });
 * m.headerBytes; // e.g. 1180
 * m.cookies.length; // 1 unless over 3936 characters
 * ```
 */
export function measureToken(token: Record<string, unknown>, options: { secure?: boolean; cookieName?: string } = {}): TokenMeasure {
  const name = options.cookieName ?? `${options.secure ? "__Secure-" : ""}authjs.session-token`;
  const bytes = payloadBytes(token);
  const length = jweLength(bytes);
  const cookies: CookieShape[] = [];
  if (length <= AUTHJS_CHUNK_SIZE) cookies.push({ name, valueBytes: length });
  else for (let i = 0; i * AUTHJS_CHUNK_SIZE < length; i++) cookies.push({ name: `${name}.${i}`, valueBytes: Math.min(AUTHJS_CHUNK_SIZE, length - i * AUTHJS_CHUNK_SIZE) });
  const headerBytes = cookies.reduce((sum, c) => sum + c.name.length + 1 + c.valueBytes, 0) + 2 * (cookies.length - 1);
  const measure = { cookies, headerBytes, payloadBytes: bytes, attributes: `${SESSION_COOKIE_ATTRIBUTES}${options.secure ? "; Secure" : ""}` } as TokenMeasure;
  // Per claim only when asked for (a breakdown, an inspector): the budget's check on every token
  // needs the total alone, and this is most of a measurement's cost.
  let perClaim: Record<string, number> | undefined;
  Object.defineProperty(measure, "perClaim", {
    enumerable: true,
    get: () => (perClaim ??= claimShares(token)),
  });
  return measure;
}

function claimShares(token: Record<string, unknown>): Record<string, number> {
  const shares: Record<string, number> = {};
  for (const [key, value] of Object.entries(token)) {
    if (value === undefined) continue;
    shares[key] = Math.ceil((encoder.encode(JSON.stringify(key)).length + 2 + encoder.encode(JSON.stringify(value)).length) * (4 / 3));
  }
  return shares;
}
