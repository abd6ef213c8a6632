// The half of a provider token's validation that logout tokens and Security Event Tokens share: a
// compact JWS whose algorithm is allowed, whose `typ` is the expected one, verified by jose against
// the provider's keys for issuer, audience and an `iat` window. Failures come back as kinds each
// verifier names with its own codes.
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { invalidOption } from "../engine/errors";
import { SIGNING_ALGORITHMS } from "./remote-keys";

/**
 * The token options both receivers take, checked at start-up (`invalid_option` naming the one at
 * fault): a non-empty list of asymmetric algorithms (never `none` or `HS*`: a typo or nothing would
 * refuse every token), whole seconds for `maxAge` (default 300) and `clockTolerance` (default 30).
 *
 * @example
 * ```ts
 * const { algorithms, maxAge, clockTolerance } = tokenOptions("backchannelLogout", options, ["RS256"]);
 * ```
 */
export function tokenOptions(where: string, options: { algorithms?: readonly string[]; maxAge?: number; clockTolerance?: number }, defaultAlgorithms: readonly string[]): { algorithms: readonly string[]; maxAge: number; clockTolerance: number } {
  const algorithms: readonly unknown[] = options.algorithms ?? defaultAlgorithms;
  if (!Array.isArray(algorithms) || algorithms.length === 0 || algorithms.some((a) => typeof a !== "string" || !SIGNING_ALGORITHMS.has(a))) {
    invalidOption(where, "algorithms", `must be a non-empty list of asymmetric JWS algorithms (${[...SIGNING_ALGORITHMS].join(", ")}); never none or HS* (got ${JSON.stringify(algorithms)})`);
  }
  const maxAge = options.maxAge ?? 300;
  const clockTolerance = options.clockTolerance ?? 30;
  for (const [name, value] of [["maxAge", maxAge], ["clockTolerance", clockTolerance]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) invalidOption(where, name, "must be a whole number of seconds (0 or more)");
  }
  return { algorithms: algorithms as readonly string[], maxAge, clockTolerance };
}

/** Why a token failed the shared checks. */
export type JwtFailure = "malformed" | "alg" | "unsupported" | "typ" | "signature" | "issuer" | "audience" | "too_old" | "iat" | "expired" | "keys";

/** Options of {@link verifySignedJwt}. Times in seconds. */
export interface SignedJwtOptions {
  issuer: string;
  audience: string | readonly string[];
  keys: JWTVerifyGetKey;
  algorithms: readonly string[];
  maxAge: number;
  clockTolerance: number;
  now: number;
  /** Whether the protected header's `typ` is this kind of token's, and its name for messages. */
  typ: { allowed(typ: unknown): boolean; name: string };
}

/** The payload, or why not. */
export type SignedJwtOutcome = { ok: true; payload: JWTPayload } | { ok: false; failure: JwtFailure; detail: string };

const fail = (failure: JwtFailure, detail: string): SignedJwtOutcome => ({ ok: false, failure, detail });

/** jose's errors as kinds (the claim jose names decides for claim failures). */
function fromJose(err: unknown): SignedJwtOutcome {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof errors.JWTExpired) return fail(err.claim === "iat" ? "too_old" : "expired", message);
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "iss") return fail("issuer", message);
    if (err.claim === "aud") return fail("audience", message);
    if (err.claim === "iat" || err.claim === "nbf") return fail("iat", message);
    if (err.claim === "typ") return fail("typ", message);
    return fail("malformed", message);
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return fail("alg", message);
  if (err instanceof errors.JOSENotSupported) return fail("unsupported", message);
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return fail("signature", message);
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return fail("keys", message);
  if (err instanceof errors.JOSEError) return fail("malformed", message);
  // A key getter that cannot reach the provider throws plain errors (fetch failures, the cooldown).
  return fail("keys", message);
}

/**
 * Check a compact JWS before and with jose: three base64url parts, a readable protected header,
 * an allowed asymmetric `alg` (never `none`), the expected `typ`; then the signature against
 * `keys`, `iss`, `aud`, `iat` within `maxAge` and not in the future, `exp`/`nbf` when present. A
 * malformed token or a refused algorithm is answered before any key is asked for.
 *
 * @example
 * ```ts
 * const r = await verifySignedJwt(token, { issuer, audience, keys, algorithms: ["RS256"], maxAge: 300, clockTolerance: 30, now, typ: { allowed: (t) => t === "logout+jwt", name: "a logout token's" } });
 * ```
 */
export async function verifySignedJwt(token: string, options: SignedJwtOptions): Promise<SignedJwtOutcome> {
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) return fail("malformed", "not a compact signed JWT (three base64url parts)");
  let header;
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    return fail("malformed", err instanceof Error ? err.message : String(err));
  }
  if (typeof header.alg !== "string" || header.alg === "none" || !options.algorithms.includes(header.alg)) {
    return fail("alg", `alg ${JSON.stringify(header.alg)} is not one of ${options.algorithms.join(", ")}`);
  }
  if (!options.typ.allowed(header.typ)) return fail("typ", `typ ${JSON.stringify(header.typ)} is not ${options.typ.name}`);
  try {
    const { payload } = await jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: typeof options.audience === "string" ? options.audience : [...options.audience],
      algorithms: [...options.algorithms],
      maxTokenAge: options.maxAge,
      clockTolerance: options.clockTolerance,
      currentDate: new Date(options.now * 1000),
    });
    return { ok: true, payload };
  } catch (err) {
    return fromJose(err);
  }
}
