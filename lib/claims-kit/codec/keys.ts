// Auth.js's session-cookie keys, derived once per (secret, salt) and kept: Auth.js runs HKDF and
// a JWK thumbprint on every encode and decode, which is most of its codec's cost.
import { createHash, createSecretKey, hkdfSync, type KeyObject } from "node:crypto";

/** What one (secret, salt) pair yields: the two halves of the A256CBC-HS512 key and the header. */
export interface SessionKeys {
  /** base64url SHA-512 JWK thumbprint of the 64-byte key, as Auth.js puts it in `kid`. */
  readonly kid: string;
  /** HMAC-SHA-512 key: the first 32 bytes (RFC 7518 5.2.2.1 MAC_KEY). */
  readonly macKey: KeyObject;
  /** AES-256-CBC key: the last 32 bytes (ENC_KEY). */
  readonly encKey: KeyObject;
  /** The protected header exactly as Auth.js's encode writes it, base64url. */
  readonly header: string;
  /** The header's ASCII bytes: the JWE's additional authenticated data. */
  readonly aad: Buffer;
  /** AL: the AAD's length in bits, a 64-bit big-endian integer. */
  readonly al: Buffer;
}

/** A256CBC-HS512 takes a 64-byte key (RFC 7518 5.2.5). */
const KEY_BYTES = 64;
// Secrets and cookie names are a handful per process; the bound only guards against a caller
// that derives keys from many distinct salts, so dropping everything when full is enough.
const CACHE_LIMIT = 64;
/** salt -> secret -> keys (nested: no string building on the hot path). */
const cache = new Map<string, Map<string, SessionKeys>>();
let cached = 0;

/**
 * Additional authenticated data and its bit length for a protected header segment (ASCII).
 *
 * @example
 * ```ts
 * const { aad, al } = aadOf(segments[0]);
 * ```
 */
export function aadOf(header: string): { aad: Buffer; al: Buffer } {
  const aad = Buffer.from(header, "latin1");
  const al = Buffer.alloc(8);
  al.writeBigUInt64BE(BigInt(aad.length) * 8n);
  return { aad, al };
}

/**
 * The keys Auth.js derives for a session cookie: HKDF-SHA-256 over the secret, the cookie name as
 * salt and `Auth.js Generated Encryption Key (<salt>)` as info, 64 bytes; cached per pair.
 * Throws a TypeError for a missing secret or salt (a configuration error, never a cookie's).
 *
 * @example
 * ```ts
 * const keys = sessionKeys(process.env.AUTH_SECRET!, "authjs.session-token");
 * keys.kid; // the `kid` Auth.js writes into every session cookie's header
 * ```
 */
export function sessionKeys(secret: string, salt: string): SessionKeys {
  if (typeof secret !== "string" || secret.length === 0) throw new TypeError("session codec: the secret must be a non-empty string");
  if (typeof salt !== "string") throw new TypeError("session codec: the salt (the cookie name) must be a string");
  const hit = cache.get(salt)?.get(secret);
  if (hit) return hit;
  const key = Buffer.from(hkdfSync("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, KEY_BYTES));
  // RFC 7638 thumbprint of { kty: "oct", k }: the required members in lexicographic order.
  const kid = createHash("sha512").update(`{"k":"${key.toString("base64url")}","kty":"oct"}`).digest("base64url");
  const header = Buffer.from(`{"alg":"dir","enc":"A256CBC-HS512","kid":"${kid}"}`).toString("base64url");
  const keys: SessionKeys = {
    kid,
    macKey: createSecretKey(key.subarray(0, 32)),
    encKey: createSecretKey(key.subarray(32)),
    header,
    ...aadOf(header),
  };
  key.fill(0);
  if (cached >= CACHE_LIMIT) {
    cache.clear();
    cached = 0;
  }
  const bySecret = cache.get(salt) ?? new Map<string, SessionKeys>();
  cache.set(salt, bySecret.set(secret, keys));
  cached += 1;
  return keys;
}
