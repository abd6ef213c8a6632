// How Security Event Tokens reach the receiver: pushed to the app (RFC 8935) or polled from the
// transmitter (RFC 8936); and the verification request (SSF 1.0, 8.1.4.2). `sharedSignals()` is
// the public factory: options validated at once or lazily, like `backchannelLogout()`.
import { timingSafeEqual } from "node:crypto";
import { invalidOption, messageOf, type SsfErrorCode } from "../engine/errors";
import { boundedText, NO_STORE } from "./http";
import { receiveSecurityEvent, resolveSharedSignals, stateKey, type ResolvedSharedSignals, type SharedSignalsOptions, type SharedSignalsResult } from "./shared-signals";

/** A pushed SET is a few kilobytes; anything past this is refused before it is read. */
const MAX_BODY = 64 * 1024;
/** A poll answer holds at most `maxEvents` SETs. */
const MAX_POLL_BODY = 2 * 1024 * 1024;
const POLL_TIMEOUT_MS = 10_000;
/** Seconds a transmitter is asked to wait after a 503 (the key cooldown). */
const RETRY_AFTER = "10";
/** How long a verification's state is awaited (seconds). */
const STATE_SECONDS = 600;

/** The RFC 8935 error code (`err`) for each of the receiver's codes. */
const RFC8935: Readonly<Partial<Record<SsfErrorCode, string>>> = {
  authentication_failed: "authentication_failed",
  unsupported_alg: "invalid_key",
  invalid_signature: "invalid_key",
  transmitter_unavailable: "invalid_key",
  invalid_issuer: "invalid_issuer",
  invalid_audience: "invalid_audience",
  invalid_state: "invalid_state",
};
/** The RFC 8935 `err` of a refusal (`invalid_request` unless a more precise one exists). */
export const rfc8935Error = (code: SsfErrorCode): string => RFC8935[code] ?? "invalid_request";

/** What one poll round did: SETs acknowledged, refused (reported in `setErrs`), left for redelivery. */
export interface PollReport {
  received: number;
  acknowledged: number;
  refused: number;
  /** Failed here (the database, the transmitter's keys): not acknowledged, so delivered again. */
  retried: number;
  moreAvailable: boolean;
  results: SharedSignalsResult[];
}

/** What {@link sharedSignals} returns: the push route, the poll round, verification, and the step-up check. */
export interface SharedSignalsHandler {
  /** The push endpoint (RFC 8935): 202, or 400 `{ err, description: "<code>: …" }` (413, 503 as said). */
  POST(request: Request): Promise<Response>;
  /** Validate the options now (throws `invalid_option` naming the option). Call it when the server starts. */
  check(): void;
  /** Validate one SET and apply it (what `POST` and `poll` do with each). */
  receive(token: string): Promise<SharedSignalsResult>;
  /** One poll (RFC 8936) of `endpoint`: fetch, apply, acknowledge; repeated while more are available (at most 10 requests). */
  poll(options: { endpoint: string; authorization?: string; maxEvents?: number }): Promise<PollReport>;
  /** Ask the transmitter for a verification event (SSF 1.0): its answer must carry the returned `state`. */
  requestVerification(options: { streamId: string; authorization?: string; endpoint?: string }): Promise<{ state: string }>;
  /** When a user's sessions must step up before a sensitive action (`assurance-level-change`), or null. */
  stepUpRequirement(userId: string): Promise<{ notBefore: number; acr?: readonly string[] } | null>;
}

function answer(result: SharedSignalsResult, status?: number): Response {
  if (result.ok) return new Response(null, { status: 202, headers: NO_STORE });
  const failed = result.code === "transmitter_unavailable" || result.code === "effect_failed";
  const body = JSON.stringify({ err: failed ? "temporarily_unavailable" : rfc8935Error(result.code), description: `${result.code}: ${result.detail}` });
  const headers: Record<string, string> = { ...NO_STORE, "content-type": "application/json" };
  if (failed) headers["retry-after"] = RETRY_AFTER;
  return new Response(body, { status: status ?? (failed ? 503 : 400), headers });
}

/** Compare a header against the expected bearer token in constant time (the scheme's case is free, RFC 9110 11.1). */
function bearerMatches(header: string | null, token: string): boolean {
  const match = /^bearer +(\S+)$/i.exec(header ?? "");
  const given = Buffer.from(match?.[1] ?? "");
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function push(o: ResolvedSharedSignals, request: Request): Promise<Response> {
  const refused = (code: SsfErrorCode, detail: string, status?: number) => {
    o.log.warn(`ssf push refused: ${code}`);
    return answer({ ok: false, kind: "refused", code, detail }, status);
  };
  // Before anything is read or fetched: an unauthenticated request costs nothing.
  if (o.pushToken !== undefined && !bearerMatches(request.headers.get("authorization"), o.pushToken)) {
    return refused("authentication_failed", "the request lacks this stream's bearer token");
  }
  if (request.method !== "POST") return refused("missing_token", "use POST");
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/secevent+jwt") return refused("missing_token", "the body must be one application/secevent+jwt");
  const text = await boundedText(request, MAX_BODY);
  if (text === null) return refused("body_too_large", `the body exceeds ${MAX_BODY} bytes`, 413);
  const result = await receiveSecurityEvent(o, text.trim());
  describe(o, result, "push");
  return answer(result);
}

function describe(o: ResolvedSharedSignals, result: SharedSignalsResult, via: string): void {
  // Event ids and codes only: never the token, never a subject's value.
  if (result.ok) {
    const { claims, records } = result;
    o.log.info(`ssf ${via}: jti=${claims.jti} ${claims.events.map((e) => e.name ?? "unknown-event").join(",")} -> ${[...new Set(records.map((r) => r.outcome))].join(",")} (${records.filter((r) => r.userId).length} user(s))`);
  } else o.log.warn(`ssf ${via} refused: ${result.code}`);
}

async function poll(o: ResolvedSharedSignals, options: { endpoint: string; authorization?: string; maxEvents?: number }): Promise<PollReport> {
  const maxEvents = options.maxEvents ?? 25;
  const report: PollReport = { received: 0, acknowledged: 0, refused: 0, retried: 0, moreAvailable: false, results: [] };
  let ack: string[] = [];
  let setErrs: Record<string, { err: string; description: string }> = {};
  for (let round = 0; round < 10; round++) {
    const last = round === 9;
    const body = { ack, ...(Object.keys(setErrs).length > 0 ? { setErrs } : {}), maxEvents: last ? 0 : maxEvents, returnImmediately: true };
    const response = await fetch(options.endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...(options.authorization ? { authorization: options.authorization } : {}) },
      body: JSON.stringify(body),
      redirect: "error",
      signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
    }).catch((err: unknown) => {
      throw new PollError(`the poll request failed (${messageOf(err)})`);
    });
    const text = await boundedText(response, MAX_POLL_BODY);
    if (!response.ok || text === null) throw new PollError(`the poll endpoint answered HTTP ${response.status}${text === null ? " with a body over 2 MB" : ""}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new PollError("the poll answer is not JSON");
    }
    const sets = (parsed as { sets?: unknown }).sets;
    if (typeof sets !== "object" || sets === null || Array.isArray(sets)) throw new PollError("the poll answer has no sets object");
    ack = [];
    setErrs = {};
    for (const [jti, token] of Object.entries(sets).slice(0, maxEvents)) {
      report.received++;
      const result = typeof token === "string" ? await receiveSecurityEvent(o, token.trim()) : ({ ok: false, kind: "refused", code: "malformed_token", detail: "a SET is a string" } as const);
      describe(o, result, "poll");
      report.results.push(result);
      // Replays were handled when first received: acknowledged, not reported as errors.
      if ((result.ok && result.claims.jti === jti) || (!result.ok && result.code === "replayed")) {
        ack.push(jti);
        report.acknowledged++;
      } else if (result.ok || result.kind === "refused") {
        setErrs[jti] = result.ok ? { err: "invalid_request", description: "malformed_token: the SET's jti differs from its key" } : { err: rfc8935Error(result.code), description: `${result.code}: ${result.detail}`.slice(0, 500) };
        report.refused++;
      } else report.retried++;
    }
    report.moreAvailable = (parsed as { moreAvailable?: unknown }).moreAvailable === true;
    // One more request only to acknowledge, or to fetch what is left.
    if (ack.length === 0 && Object.keys(setErrs).length === 0 && !report.moreAvailable) break;
    if (last) break;
  }
  return report;
}

/** A poll that could not read the transmitter (`poll_failed`). */
export class PollError extends Error {
  readonly code = "poll_failed" as const;
}

async function requestVerification(o: ResolvedSharedSignals, options: { streamId: string; authorization?: string; endpoint?: string }): Promise<{ state: string }> {
  const endpoint = options.endpoint ?? (await o.metadata())?.verification_endpoint;
  if (typeof endpoint !== "string") throw new Error("the transmitter's metadata names no verification_endpoint");
  const state = crypto.randomUUID();
  const now = Math.floor(o.clock() / 1000);
  await o.replay.once(stateKey(o, state), now + STATE_SECONDS, now);
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...(options.authorization ? { authorization: options.authorization } : {}) },
    body: JSON.stringify({ stream_id: options.streamId, state }),
    redirect: "error",
    signal: AbortSignal.timeout(POLL_TIMEOUT_MS),
  });
  await response.body?.cancel().catch(() => undefined);
  if (response.status !== 204 && response.status !== 200) {
    await o.replay.forget(stateKey(o, state));
    throw new Error(`the verification request answered HTTP ${response.status}`);
  }
  return { state };
}

/**
 * The OpenID Shared Signals receiver (SSF 1.0 with CAEP 1.0 and RISC 1.0 events): the push
 * endpoint (RFC 8935), poll rounds (RFC 8936), the stream's verification, and the effects:
 * Security Event Tokens verified as strictly as logout tokens (the transmitter's keys from its
 * `/.well-known/ssf-configuration` `jwks_uri`, `iss`, `aud`, an `iat` window, `jti` once across
 * instances, an algorithm allow-list, `typ` `secevent+jwt`), their subjects (`iss_sub`, verified
 * `email`, `opaque` session ids, `complex` user and session) mapped to sessions as back-channel
 * logout maps a logout token, then each event's effect ({@link DEFAULT_SECURITY_EFFECTS}) and a
 * record in the event log. Options given as a function are read on `check()` or first use.
 *
 * @example
 * ```ts
 * export const ssf = sharedSignals(() => ({
 *   kit, issuer: "https://idp.example.com", audience: "https://app.example.com",
 *   replay: prismaReplayStore(prisma), events: prismaSecurityEventLog(prisma), pushToken: process.env.SSF_PUSH_TOKEN,
 * }));
 * // app/api/auth/ssf/events/route.ts
 * export const { POST } = ssf;
 * ```
 */
export function sharedSignals(options: SharedSignalsOptions | (() => SharedSignalsOptions)): SharedSignalsHandler {
  let resolved: ResolvedSharedSignals | undefined;
  const get = () => (resolved ??= resolveSharedSignals(typeof options === "function" ? options() : options));
  if (typeof options !== "function") get();
  return {
    POST: (request) => push(get(), request),
    check: () => void get(),
    async receive(token) {
      const o = get();
      const result = await receiveSecurityEvent(o, token);
      describe(o, result, "receive");
      return result;
    },
    poll: (pollOptions) => {
      if (typeof pollOptions?.endpoint !== "string" || !/^https?:\/\//.test(pollOptions.endpoint)) invalidOption("sharedSignals.poll", "endpoint", "must be the transmitter's poll URL");
      return poll(get(), pollOptions);
    },
    requestVerification: (verify) => requestVerification(get(), verify),
    async stepUpRequirement(userId) {
      const o = get();
      const since = await o.events.latest(userId, "step_up_required");
      return since === null ? null : { notBefore: since, ...(o.stepUpAcr ? { acr: o.stepUpAcr } : {}) };
    },
  };
}
