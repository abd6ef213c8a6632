// The provider's (or transmitter's) signing keys, fetched for receivers that verify its tokens
// (back-channel logout, Shared Signals): its metadata document, then the `jwks_uri` it names,
// behind one cooldown. The endpoints that use them are unauthenticated until a token verifies, so
// what an attacker can make the app request from the provider is bounded here, once for all.
import { createRemoteJWKSet, customFetch, type FetchImplementation, type JWTVerifyGetKey } from "jose";
import { messageOf } from "../engine/errors";
import { boundedText } from "./http";

/** After a failed request to the provider (metadata or keys), none is made for this long. */
export const PROVIDER_COOLDOWN_MS = 10_000;
/** The most a metadata document or key set may weigh: a provider's are a few kilobytes. */
const MAX_DOCUMENT = 256 * 1024;
const TIMEOUT_MS = 5000;

/** The asymmetric JWS algorithms a provider's tokens may be signed with (jose verifies each of them). */
export const SIGNING_ALGORITHMS: ReadonlySet<string> = new Set(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"]);

/** Options of {@link remoteKeys}. */
export interface RemoteKeysOptions {
  /** The issuer the metadata document must name, exactly. */
  issuer: string;
  /** Where the metadata document is (`/.well-known/openid-configuration`, `/.well-known/ssf-configuration`). */
  metadataUrl: string;
  /** The JWKS URL, when configured instead of discovered. */
  jwksUri?: string;
  /** Keys to use instead of fetching any (tests). */
  keys?: JWTVerifyGetKey;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** More checks of the metadata document: a message names what is wrong, null accepts it. */
  checkMetadata?: (metadata: Readonly<Record<string, unknown>>) => string | null;
}

/** What {@link remoteKeys} gives: the key getter for jose, and the metadata document it was found in. */
export interface RemoteKeys {
  /** The key set, discovered once (it then keeps itself fresh); rejects while the provider is unavailable. */
  keys(): Promise<JWTVerifyGetKey>;
  /** The metadata document (null when keys or a JWKS URL were configured). */
  metadata(): Promise<Readonly<Record<string, unknown>> | null>;
}

/** A JSON body of at most MAX_DOCUMENT bytes, or a thrown reason: read in bounded chunks, whatever Content-Length says (or omits). */
async function jsonOf(response: Response): Promise<{ text: string; body: unknown }> {
  const text = await boundedText(response, MAX_DOCUMENT);
  if (text === null) throw new Error("the document is too large");
  try {
    return { text, body: JSON.parse(text) };
  } catch {
    throw new Error("not JSON");
  }
}

/**
 * A provider's signing keys for jose, from its metadata document's `jwks_uri`. Every request to
 * the provider (the metadata, its JWKS, jose's refetch on an unknown `kid`, which jose itself
 * allows once per 30 s) goes through one gate: after a failure none is made for
 * {@link PROVIDER_COOLDOWN_MS}, so a flood of well-formed tokens cannot become a flood of
 * outbound requests. Documents over 256 KB, and answers after 5 s, are failures.
 *
 * @example
 * ```ts
 * const remote = remoteKeys({ issuer, metadataUrl: `${issuer}/.well-known/openid-configuration`, clock: Date.now });
 * await jwtVerify(token, async (h, t) => (await remote.keys())(h, t));
 * ```
 */
export function remoteKeys(options: RemoteKeysOptions): RemoteKeys {
  const { clock } = options;
  let retryAt = 0;
  let lastFailure = "";
  const gated = async <T>(what: string, request: () => Promise<T>): Promise<T> => {
    if (clock() < retryAt) throw new Error(`${lastFailure}; the provider is not asked again for ${Math.ceil((retryAt - clock()) / 1000)} s`);
    try {
      return await request();
    } catch (err) {
      retryAt = clock() + PROVIDER_COOLDOWN_MS;
      lastFailure = `${what} failed (${messageOf(err)})`;
      throw err;
    }
  };
  // jose's fetch for the key set: anything but a JSON Web Key Set is a failure here, inside the
  // cooldown (jose would report a non-200 or a parse error as a generic JOSEError).
  const fetchKeys: FetchImplementation = (url, init) =>
    gated("the JWKS request", async () => {
      const response = await fetch(url, init);
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`HTTP ${response.status}`);
      }
      const { text, body } = await jsonOf(response);
      const set = typeof body === "object" && body !== null ? (body as { keys?: unknown }).keys : undefined;
      if (!Array.isArray(set) || !set.every((k) => typeof k === "object" && k !== null && !Array.isArray(k))) throw new Error("not a JSON Web Key Set");
      return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
    });
  const keySet = (uri: string) => createRemoteJWKSet(new URL(uri), { [customFetch]: fetchKeys, timeoutDuration: TIMEOUT_MS });
  let metadata: Readonly<Record<string, unknown>> | null = null;
  const discover = (): Promise<JWTVerifyGetKey> =>
    gated("the metadata request", async () => {
      if (options.jwksUri) return keySet(options.jwksUri);
      const response = await fetch(options.metadataUrl, { headers: { accept: "application/json" }, redirect: "error", signal: AbortSignal.timeout(TIMEOUT_MS) });
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`HTTP ${response.status}`);
      }
      const { body } = await jsonOf(response);
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not a JSON object");
      const document = body as Record<string, unknown>;
      if (document.issuer !== options.issuer) throw new Error("it names another issuer");
      if (typeof document.jwks_uri !== "string") throw new Error("it names no jwks_uri");
      const problem = options.checkMetadata?.(document);
      if (problem) throw new Error(problem);
      metadata = document;
      return keySet(document.jwks_uri);
    });
  let keys: Promise<JWTVerifyGetKey> | undefined = options.keys ? Promise.resolve(options.keys) : undefined;
  const load = () =>
    (keys ??= discover().catch((err: unknown) => {
      keys = undefined;
      throw err;
    }));
  return {
    keys: load,
    async metadata() {
      if (options.keys || options.jwksUri) return null;
      await load();
      return metadata;
    },
  };
}
