// The back-channel logout endpoint (OIDC Back-Channel Logout 1.0): the provider POSTs a logout
// token, the kit ends the sessions it names through the session registry. A framework-neutral
// route handler (Request -> Response), so Next.js, Hono or a test server mount it as it is.
import type { JWTVerifyGetKey } from "jose";
import { invalidOption, type Result } from "../engine/errors";
import { verifyLogoutToken, type BackchannelErrorCode, type LogoutClaims } from "./logout-token";
import { applyOnce } from "./apply-once";
import { boundedText, consoleLogger, NO_STORE, REPLAY_MARGIN } from "./http";
import { remoteKeys } from "./remote-keys";
import { tokenOptions } from "./signed-jwt";
import type { ReplayStore } from "../engine/ports";
import type { KitLogger } from "../engine/types";

/** Options of {@link backchannelLogout}. */
export interface BackchannelLogoutOptions {
  /** The kit whose sessions the provider may end (`kit.sessions.revokeByProvider`). */
  kit: { readonly sessions: { revokeByProvider(where: { issuer: string; sid?: string; subject?: string }): Promise<number> } };
  /** The provider's issuer, exactly as its id_tokens carry it; its discovery document names the keys. */
  issuer: string;
  /** This app's client id at the provider (the logout token's `aud`). */
  clientId: string;
  /** Where `jti`s are remembered, shared by every instance (`prismaReplayStore(prisma)`). */
  replay: ReplayStore;
  /** The client's `id_token_signed_response_alg` (and any others it may use). Default `["RS256"]`. */
  algorithms?: readonly string[];
  /** Refuse tokens issued longer ago than this (seconds). Default 300. */
  maxAge?: number;
  /** Clock skew tolerated on `iat`/`exp` (seconds). Default 30. */
  clockTolerance?: number;
  /** The provider's JWKS URL; default: its discovery document's `jwks_uri`. */
  jwksUri?: string;
  /** For tests: keys to verify with instead of the provider's JWKS. */
  keys?: JWTVerifyGetKey;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  logger?: KitLogger;
}

/** What one back-channel logout request came to. */
export type BackchannelResult = Result<{ revoked: number; claims: LogoutClaims }, BackchannelErrorCode, { detail: string }>;

/** What {@link backchannelLogout} returns: the route's `POST`, and the processing step on its own. */
export interface BackchannelLogoutHandler {
  POST(request: Request): Promise<Response>;
  /**
   * Validate the options now (throws `invalid_option` naming the option). With the lazy form
   * `backchannelLogout(() => options)`, call it when the server starts (instrumentation.ts): a bad
   * `algorithms` list would otherwise fail every logout token, and provider logouts would silently
   * stop ending sessions.
   */
  check(): void;
  /** Validate one logout token and end the sessions it names (what `POST` does after parsing the form). */
  receive(logoutToken: string): Promise<BackchannelResult>;
}

const MAX_BODY = 64 * 1024;

interface Resolved extends Required<Omit<BackchannelLogoutOptions, "jwksUri" | "keys" | "logger">> {
  keys: () => Promise<JWTVerifyGetKey>;
  log: KitLogger;
}

function resolve(options: BackchannelLogoutOptions): Resolved {
  const where = "backchannelLogout";
  if (!options || typeof options.kit?.sessions?.revokeByProvider !== "function") invalidOption(where, "kit", "must be the value claimsKit() returned (with a sessions registry)");
  if (typeof options.issuer !== "string" || !/^https?:\/\//.test(options.issuer)) invalidOption(where, "issuer", "must be the provider's issuer URL");
  if (typeof options.clientId !== "string" || options.clientId.length === 0) invalidOption(where, "clientId", "must be this app's client id");
  if (typeof options.replay?.once !== "function") invalidOption(where, "replay", "must be a ReplayStore (prismaReplayStore(prisma), memoryReplayStore())");
  // `none` is never a signature, and HMAC would need the client secret: refused at start-up.
  const { algorithms, maxAge, clockTolerance } = tokenOptions(where, options, ["RS256"]);
  const clock = options.clock ?? Date.now;
  // Discovery, then its JWKS, behind one cooldown (remote-keys.ts): a flood of well-formed tokens
  // is not a flood of requests to the provider.
  const remote = remoteKeys({ issuer: options.issuer, metadataUrl: `${options.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, jwksUri: options.jwksUri, keys: options.keys, clock });
  return {
    kit: options.kit,
    issuer: options.issuer,
    clientId: options.clientId,
    replay: options.replay,
    algorithms,
    maxAge,
    clockTolerance,
    clock,
    log: options.logger ?? consoleLogger,
    keys: remote.keys,
  };
}

async function receive(o: Resolved, token: string): Promise<BackchannelResult> {
  const now = Math.floor(o.clock() / 1000);
  // Loaded only when jose needs a key: verifyLogoutToken refuses a malformed token or a refused
  // algorithm before that, so garbage costs no outbound request. A load failure is provider_unavailable.
  const keys: JWTVerifyGetKey = async (header, input) => (await o.keys())(header, input);
  const verified = await verifyLogoutToken(token, { issuer: o.issuer, clientId: o.clientId, keys, algorithms: o.algorithms, maxAge: o.maxAge, clockTolerance: o.clockTolerance, now });
  if (!verified.ok) return verified;
  const { claims } = verified;
  // Remembered until the token could no longer pass the age and expiry checks anyway, on any
  // instance's clock (REPLAY_MARGIN); marked only once the sessions are ended (applyOnce), so a
  // failure on the way leaves the provider's (or an operator's) retry able to end them.
  const key = `bcl:${claims.iss}:${claims.jti}`;
  const until = Math.max(claims.exp ?? 0, claims.iat + o.maxAge) + o.clockTolerance + REPLAY_MARGIN;
  const where = { issuer: claims.iss, ...(claims.sid ? { sid: claims.sid } : {}), ...(claims.sub ? { subject: claims.sub } : {}) };
  const applied = await applyOnce(o.replay, { key, until, now }, async () => ({ value: await o.kit.sessions.revokeByProvider(where), mark: true }));
  switch (applied.outcome) {
    case "done":
    case "skipped":
      return { ok: true, revoked: applied.value, claims };
    case "replayed":
      return { ok: false, kind: "refused", code: "replayed", detail: "this logout token's jti was already received" };
    case "busy":
      return { ok: false, kind: "failed", code: "logout_failed", detail: "another delivery of this logout token is being applied; retry" };
    case "failed":
      return { ok: false, kind: "failed", code: "logout_failed", detail: applied.stage === "store" ? applied.detail : `the sessions could not be ended: ${applied.detail}` };
  }
}

function answer(result: BackchannelResult): Response {
  if (result.ok) return new Response(null, { status: 200, headers: NO_STORE });
  const body = JSON.stringify({ error: "invalid_request", error_description: `${result.code}: ${result.detail}` });
  return new Response(body, { status: 400, headers: { ...NO_STORE, "content-type": "application/json" } });
}

/** The `logout_token` of a form-encoded POST body, or a refusal. */
async function logoutTokenOf(request: Request): Promise<Result<{ token: string }, BackchannelErrorCode, { detail: string }>> {
  if (request.method !== "POST") return { ok: false, kind: "refused", code: "missing_token", detail: "use POST" };
  if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) {
    return { ok: false, kind: "refused", code: "missing_token", detail: "the body must be application/x-www-form-urlencoded" };
  }
  const text = await boundedText(request, MAX_BODY);
  if (text === null) return { ok: false, kind: "refused", code: "malformed_token", detail: "the body is too large" };
  const tokens = new URLSearchParams(text).getAll("logout_token");
  if (tokens.length !== 1 || !tokens[0]) return { ok: false, kind: "refused", code: "missing_token", detail: "exactly one logout_token is required" };
  return { ok: true, token: tokens[0] };
}

/**
 * The OIDC Back-Channel Logout endpoint: validates the provider's `logout_token` (signature
 * against its JWKS, `iss`, `aud`, `iat` window, `exp`, `jti` seen once across instances, the
 * back-channel `events` claim, no `nonce`, `sid` and/or `sub`) and ends the matching sessions
 * through the registry: those of the provider session `sid`, or every session of the provider
 * subject `sub`. Answers 200, or 400 `{ error: "invalid_request", error_description: "<code>: …" }`,
 * always with `Cache-Control: no-store`. Options given as an object are validated at once; given
 * as a function they are read on `check()` or the first request (so `next build` needs no
 * configuration): call `check()` when the server starts. Register the route's URL as the client's
 * `backchannel_logout_uri` at the provider, with `backchannel_logout_session_required`.
 *
 * @example
 * ```ts
 * // lib/backchannel.ts
 * export const backchannel = backchannelLogout(() => ({
 *   kit, issuer: process.env.AUTH_OIDC_ISSUER!, clientId: process.env.AUTH_OIDC_ID!, replay: prismaReplayStore(prisma),
 * }));
 * // app/api/auth/backchannel-logout/route.ts
 * export const { POST } = backchannel;
 * // instrumentation.ts, register(): throws invalid_option naming the option when one is wrong
 * backchannel.check();
 * ```
 */
export function backchannelLogout(options: BackchannelLogoutOptions | (() => BackchannelLogoutOptions)): BackchannelLogoutHandler {
  let resolved: Resolved | undefined;
  const get = () => (resolved ??= resolve(typeof options === "function" ? options() : options));
  // Options given as an object are checked at once; the lazy form on check() or the first request.
  if (typeof options !== "function") get();
  const handler: BackchannelLogoutHandler = {
    async POST(request) {
      const o = get();
      const parsed = await logoutTokenOf(request);
      const result = parsed.ok ? await receive(o, parsed.token) : parsed;
      // Codes and counts only: never the token, and the provider's ids only as present/absent.
      if (result.ok) o.log.info(`backchannel logout: ended ${result.revoked} session(s) (sid ${result.claims.sid ? "given" : "absent"}, sub ${result.claims.sub ? "given" : "absent"})`);
      else o.log.warn(`backchannel logout refused: ${result.code}`);
      return answer(result);
    },
    receive: (token) => receive(get(), token),
    check: () => void get(),
  };
  return handler;
}
