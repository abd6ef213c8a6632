// Compact JWE with alg "dir" and enc "A256CBC-HS512" (RFC 7516, RFC 7518 5.2), the only shape
// Auth.js writes, on node:crypto. Opening is strict: anything Auth.js's encode could not have
// produced is refused before any decryption, and the tag is checked in constant time first.
import type { CodecErrorCode, Result } from "../engine/errors";
import { kindOf } from "../engine/kinds";
import { createCipheriv, createDecipheriv, createHmac, randomFillSync, timingSafeEqual } from "node:crypto";
import { aadOf, type SessionKeys } from "./keys";

/** Why a compact JWE was not opened. Stable: tests and logs match on them. */
export type JweFailure = Extract<CodecErrorCode, "malformed" | "header_refused" | "unknown_key" | "tag_mismatch">;

/** The outcome of {@link openJwe}: the plaintext, or why there is none. */
export type JweOpened = Result<{ plaintext: Buffer }, JweFailure>;

/**
 * Tokens opened recently, by their exact text: the proxy, the layout's and the page's `auth()` and
 * the server helpers all read the same cookie in one request (and pages repeat it across requests),
 * so it is decrypted once. Process-wide (the proxy is bundled apart from the app's routes). A hit
 * is served only for the key a fresh open would pick now (same secrets, same salt): an entry can
 * only have been made by a successful open under that key, and time claims are checked by the
 * caller on every open. Bounded in size and age.
 */
interface OpenedMemo {
  entries: Map<string, { kid: string; plaintext: Buffer; at: number }>;
  decrypted: number;
  reused: number;
}
const MEMO_LIMIT = 256;
const MEMO_TTL_MS = 60_000;
const memo: OpenedMemo = ((globalThis as { [k: symbol]: OpenedMemo })[Symbol.for("claims-kit.codec.opened")] ??= { entries: new Map(), decrypted: 0, reused: 0 });

/**
 * How many tokens this process decrypted, and how many opens were served from the memo of recently
 * opened tokens (tests, benchmarks).
 *
 * @example
 * ```ts
 * const before = openedStats().decrypted;
 * ```
 */
export function openedStats(): { decrypted: number; reused: number } {
  return { decrypted: memo.decrypted, reused: memo.reused };
}

function remember(token: string, kid: string, plaintext: Buffer): void {
  if (memo.entries.size >= MEMO_LIMIT) memo.entries.delete(memo.entries.keys().next().value!);
  memo.entries.set(token, { kid, plaintext, at: performance.now() });
}

const IV_BYTES = 16;
const TAG_BYTES = 32;
const IV_CHARS = 22;
const TAG_CHARS = 43;
/** The only header parameters Auth.js writes; `kid` may be absent (older cookies). */
const HEADER_PARAMS = new Set(["alg", "enc", "kid"]);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** RFC 7518 5.2.2.1: the first half of HMAC-SHA-512 over AAD || IV || ciphertext || AL. */
function tagOf(macKey: SessionKeys["macKey"], aad: Buffer, iv: Buffer, ciphertext: Buffer, al: Buffer): Buffer {
  return createHmac("sha512", macKey).update(aad).update(iv).update(ciphertext).update(al).digest().subarray(0, TAG_BYTES);
}

// IVs come from a buffer of CSPRNG output refilled every 256 IVs: one call into the OS's random
// source instead of one per cookie. Each IV is used (encrypted with, encoded) before the next
// is handed out, and none is handed out twice.
const ivPool = Buffer.alloc(IV_BYTES * 256);
let ivNext = ivPool.length;

function freshIv(): Buffer {
  if (ivNext === ivPool.length) {
    randomFillSync(ivPool);
    ivNext = 0;
  }
  ivNext += IV_BYTES;
  return ivPool.subarray(ivNext - IV_BYTES, ivNext);
}

/**
 * Encrypt `plaintext` under `keys` with a fresh random IV: `header..iv.ciphertext.tag`.
 *
 * @example
 * ```ts
 * const jwe = sealJwe(sessionKeys(secret, "authjs.session-token"), Buffer.from(JSON.stringify(claims)));
 * ```
 */
export function sealJwe(keys: SessionKeys, plaintext: Buffer): string {
  const iv = freshIv();
  const cipher = createCipheriv("aes-256-cbc", keys.encKey, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const tag = tagOf(keys.macKey, keys.aad, iv, ciphertext, keys.al);
  return `${keys.header}..${iv.toString("base64url")}.${ciphertext.toString("base64url")}.${tag.toString("base64url")}`;
}

/** Strict base64url: only the encoding Node itself would write (no padding, no stray bits). */
function fromB64u(segment: string): Buffer | undefined {
  const bytes = Buffer.from(segment, "base64url");
  return bytes.toString("base64url") === segment ? bytes : undefined;
}

/** The header's keys for `candidates` (one per secret, in order), or why there are none. */
function keysFor(header: string, candidates: readonly SessionKeys[]): SessionKeys | JweFailure {
  // Every cookie Auth.js (or sealJwe) wrote has one of these exact headers: no parsing needed.
  for (const keys of candidates) if (keys.header === header) return keys;
  const bytes = fromB64u(header);
  if (!bytes) return "malformed";
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch {
    return "malformed";
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return "malformed";
  const params = parsed as Record<string, unknown>;
  // No zip, crit, typ, jku, x5u...: a header Auth.js does not write is not ours to interpret.
  if (Object.keys(params).some((name) => !HEADER_PARAMS.has(name))) return "header_refused";
  if (params.alg !== "dir" || params.enc !== "A256CBC-HS512") return "header_refused";
  const { kid } = params;
  // Same parameters in another order or spacing: still a valid JOSE header, matched by kid. No
  // kid at all: Auth.js tries the first secret only, so do we.
  if (kid !== undefined && typeof kid !== "string") return "header_refused";
  const match = kid === undefined ? candidates[0] : candidates.find((keys) => keys.kid === kid);
  if (!match) return "unknown_key";
  return { ...match, header, ...aadOf(header) };
}

/**
 * Open a compact JWE written by Auth.js or {@link sealJwe} with one of `candidates`' keys (the
 * one its `kid` names). Never throws: a bad token yields `{ ok: false, code }`.
 *
 * @example
 * ```ts
 * const opened = openJwe(cookie, secrets.map((s) => sessionKeys(s, "authjs.session-token")));
 * if (opened.ok) JSON.parse(opened.plaintext.toString());
 * ```
 */
export function openJwe(token: string, candidates: readonly SessionKeys[]): JweOpened {
  const segments = token.split(".");
  if (segments.length !== 5) return { ok: false, kind: "refused", code: "malformed" };
  const [header = "", encryptedKey, ivText = "", ciphertextText = "", tagText = ""] = segments;
  // "dir": the content key is the shared key itself, so the encrypted-key segment is empty.
  if (encryptedKey !== "") return { ok: false, kind: "refused", code: "malformed" };
  const keys = keysFor(header, candidates);
  if (typeof keys === "string") return { ok: false, kind: kindOf(keys), code: keys };
  const seen = memo.entries.get(token);
  if (seen && seen.kid === keys.kid && performance.now() - seen.at < MEMO_TTL_MS) {
    memo.reused++;
    // A copy each time: a caller that wipes its buffer must not change what the next read gets.
    return { ok: true, plaintext: Buffer.from(seen.plaintext) };
  }
  if (ivText.length !== IV_CHARS || tagText.length !== TAG_CHARS) return { ok: false, kind: "refused", code: "malformed" };
  const iv = fromB64u(ivText);
  const ciphertext = fromB64u(ciphertextText);
  const tag = fromB64u(tagText);
  if (!iv || !ciphertext || !tag || ciphertext.length === 0 || ciphertext.length % IV_BYTES !== 0) return { ok: false, kind: "refused", code: "malformed" };
  if (!timingSafeEqual(tagOf(keys.macKey, keys.aad, iv, ciphertext, keys.al), tag)) return { ok: false, kind: "refused", code: "tag_mismatch" };
  try {
    const decipher = createDecipheriv("aes-256-cbc", keys.encKey, iv);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    memo.decrypted++;
    remember(token, keys.kid, Buffer.from(plaintext));
    return { ok: true, plaintext };
  } catch {
    // Bad padding behind a valid tag: only a writer holding the key could produce it.
    return { ok: false, kind: "refused", code: "malformed" };
  }
}
