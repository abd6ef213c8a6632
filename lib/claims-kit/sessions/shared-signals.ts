// The OpenID Shared Signals receiver (SSF 1.0, CAEP 1.0, RISC 1.0): Security Event Tokens pushed
// to the app (RFC 8935) or polled from the transmitter (RFC 8936, ssf-poll.ts), verified as
// strictly as logout tokens (security-event.ts), each `jti` taken once across instances, then the
// configured effect (ssf-effects.ts) and a record in the event log. A framework-neutral handler.
import type { JWTVerifyGetKey } from "jose";
import { invalidOption, type Result, type SsfErrorCode } from "../engine/errors";
import type { ReplayStore, SecurityEventLog, SecurityEventRecord } from "../engine/ports";
import type { Awaitable, KitLogger } from "../engine/types";
import { applyOnce } from "./apply-once";
import { consoleLogger, REPLAY_MARGIN } from "./http";
import { remoteKeys } from "./remote-keys";
import { tokenOptions } from "./signed-jwt";
import { eventName, SECURITY_EVENT_TYPES, verifySecurityEvent, type SecurityEventClaims } from "./security-event";
import { applyEffect, DEFAULT_SECURITY_EFFECTS, type ReceivedSecurityEvent, type SecurityEffect, type SecurityEffectFunction, type SecurityEffectsKit } from "./ssf-effects";
import { unprocessedCritical } from "./subjects";

/** Options of {@link sharedSignals}. */
export interface SharedSignalsOptions {
  /** The kit whose sessions the events reach (`claimsKit()` with a sessions registry). */
  kit: SecurityEffectsKit;
  /** The transmitter's issuer; its metadata is at `/.well-known/ssf-configuration` inserted before the issuer's path. */
  issuer: string;
  /** What the SETs' `aud` must contain: this receiver as the stream knows it (the reference app: its origin). */
  audience: string | readonly string[];
  /** Where `jti`s are remembered, shared by every instance (`prismaReplayStore(prisma)`). */
  replay: ReplayStore;
  /** Where received events and what each did are recorded (`prismaSecurityEventLog(prisma)`). */
  events: SecurityEventLog;
  /** Accepted signing algorithms. Default `["RS256", "ES256"]`. */
  algorithms?: readonly string[];
  /** The bearer token a push must carry (the stream's `authorization_header`); unset: none asked. */
  pushToken?: string;
  /** Issuers whose users (`iss_sub`) the transmitter may name; the first is the one of session ids. Default `[issuer]`. */
  subjectIssuers?: readonly string[];
  /** The ids of the users whose **verified** address this is (lower-cased); without it, `email` subjects match nobody. */
  resolveEmail?: (email: string) => Awaitable<readonly string[]>;
  /** Effects by event short name (`"session-revoked"`) or type URI, over {@link DEFAULT_SECURITY_EFFECTS}. */
  effects?: Readonly<Record<string, SecurityEffect>>;
  /** What the `hook` effect calls (by default for `device-compliance-change`). */
  hook?: SecurityEffectFunction;
  /** The `acr` values a step-up asks for after an `assurance-level-change` (default: the action's own). */
  stepUpAcr?: readonly string[];
  /** The stream id: verification and stream-updated events must name it, when set. */
  streamId?: string;
  /** Refuse SETs issued longer ago than this (seconds). Default 300. */
  maxAge?: number;
  /** Clock skew tolerated on `iat` (seconds). Default 30. */
  clockTolerance?: number;
  /** The transmitter's JWKS URL instead of its metadata's `jwks_uri`. */
  jwksUri?: string;
  /** For tests: keys to verify with instead of the transmitter's. */
  keys?: JWTVerifyGetKey;
  /** Milliseconds since the epoch. */
  clock?: () => number;
  logger?: KitLogger;
}

/** What one received SET came to: what it did (one row per user it reached), or why it was refused. */
export type SharedSignalsResult = Result<{ claims: SecurityEventClaims; records: SecurityEventRecord[] }, SsfErrorCode, { detail: string }>;

/** The validated options a receiver runs with. */
export interface ResolvedSharedSignals extends Required<Pick<SharedSignalsOptions, "kit" | "issuer" | "replay" | "events" | "maxAge" | "clockTolerance" | "clock">> {
  audience: string | readonly string[];
  algorithms: readonly string[];
  pushToken?: string;
  subjectIssuers: readonly string[];
  resolveEmail?: SharedSignalsOptions["resolveEmail"];
  effects: ReadonlyMap<string, SecurityEffect>;
  hook?: SecurityEffectFunction;
  stepUpAcr?: readonly string[];
  streamId?: string;
  keys(): Promise<JWTVerifyGetKey>;
  metadata(): Promise<Readonly<Record<string, unknown>> | null>;
  log: KitLogger;
}

const EFFECT_NAMES: ReadonlySet<string> = new Set(["end-sessions", "end-user-sessions", "reload-claims", "step-up", "hook", "log"]);

/** RFC 8615 as SSF 1.0 uses it: `/.well-known/ssf-configuration` between the host and the issuer's path. */
export function ssfMetadataUrl(issuer: string): string {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, "");
  return `${url.origin}/.well-known/ssf-configuration${path}`;
}

/** Validate the options (throws `invalid_option` naming the one at fault). */
export function resolveSharedSignals(options: SharedSignalsOptions): ResolvedSharedSignals {
  const where = "sharedSignals";
  const s = options?.kit?.sessions;
  if (!s || typeof s.listByProvider !== "function" || typeof s.revokeAll !== "function") invalidOption(where, "kit", "must be the value claimsKit() returned (with a sessions registry)");
  let url: URL | undefined;
  try {
    url = new URL(options.issuer);
  } catch {
    url = undefined;
  }
  if (typeof options.issuer !== "string" || !url || !/^https?:$/.test(url.protocol) || url.search || url.hash) invalidOption(where, "issuer", "must be the transmitter's issuer URL (no query or fragment)");
  const audience = options.audience;
  const audiences = typeof audience === "string" ? [audience] : Array.isArray(audience) ? audience : [];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== "string" || a.length === 0)) invalidOption(where, "audience", "must name this receiver (a string or a non-empty list)");
  if (typeof options.replay?.once !== "function") invalidOption(where, "replay", "must be a ReplayStore (prismaReplayStore(prisma), memoryReplayStore())");
  if (typeof options.events?.record !== "function") invalidOption(where, "events", "must be a SecurityEventLog (prismaSecurityEventLog(prisma), memorySecurityEventLog())");
  const { algorithms, maxAge, clockTolerance } = tokenOptions(where, options, ["RS256", "ES256"]);
  if (options.pushToken !== undefined && (typeof options.pushToken !== "string" || options.pushToken.length < 16 || /[\s,]/.test(options.pushToken))) {
    invalidOption(where, "pushToken", "must be at least 16 characters with no spaces or commas (a bearer token)");
  }
  const subjectIssuers = options.subjectIssuers ?? [options.issuer];
  if (!Array.isArray(subjectIssuers) || subjectIssuers.length === 0 || subjectIssuers.some((i) => typeof i !== "string" || i.length === 0)) invalidOption(where, "subjectIssuers", "must be a non-empty list of issuers");
  const effects = new Map<string, SecurityEffect>();
  for (const [name, effect] of Object.entries(DEFAULT_SECURITY_EFFECTS)) effects.set(SECURITY_EVENT_TYPES[name as keyof typeof SECURITY_EVENT_TYPES], effect);
  for (const [key, effect] of Object.entries(options.effects ?? {})) {
    const uri = key in SECURITY_EVENT_TYPES ? SECURITY_EVENT_TYPES[key as keyof typeof SECURITY_EVENT_TYPES] : /^https?:\/\/\S+$/.test(key) ? key : undefined;
    if (!uri || uri === SECURITY_EVENT_TYPES.verification || uri === SECURITY_EVENT_TYPES["stream-updated"]) invalidOption(where, `effects.${key}`, "must name an event (a CAEP/RISC short name or an event-type URI); verification and stream-updated are the receiver's");
    if (typeof effect !== "function" && !EFFECT_NAMES.has(effect)) invalidOption(where, `effects.${key}`, `must be a function or one of ${[...EFFECT_NAMES].join(", ")}`);
    effects.set(uri, effect);
  }
  const clock = options.clock ?? Date.now;
  const issuerIsHttps = url!.protocol === "https:";
  // SSF 1.0: the keys come from the metadata's jwks_uri, over TLS when the issuer is.
  const remote = remoteKeys({
    issuer: options.issuer,
    metadataUrl: ssfMetadataUrl(options.issuer),
    jwksUri: options.jwksUri,
    keys: options.keys,
    clock,
    checkMetadata: (m) => (issuerIsHttps && !String(m.jwks_uri).startsWith("https://") ? "its jwks_uri is not https" : null),
  });
  return {
    kit: options.kit,
    issuer: options.issuer,
    audience,
    replay: options.replay,
    events: options.events,
    algorithms,
    ...(options.pushToken ? { pushToken: options.pushToken } : {}),
    subjectIssuers,
    resolveEmail: options.resolveEmail,
    effects,
    hook: options.hook,
    stepUpAcr: options.stepUpAcr,
    streamId: options.streamId,
    maxAge,
    clockTolerance,
    clock,
    keys: remote.keys,
    metadata: remote.metadata,
    log: options.logger ?? consoleLogger,
  };
}

const refuse = (code: SsfErrorCode, detail: string): SharedSignalsResult => ({ ok: false, kind: code === "effect_failed" || code === "transmitter_unavailable" ? "failed" : "refused", code, detail });

/** A verification event's state: one this receiver asked for (ssf-poll.ts's requestVerification), used once. */
export const stateKey = (o: ResolvedSharedSignals, state: string) => `ssf-state:${o.issuer}:${state}`;

/** What the receiver itself does with the SSF stream events (never an effect of the app's). */
async function streamEvent(o: ResolvedSharedSignals, claims: SecurityEventClaims, event: ReceivedSecurityEvent, now: number): Promise<SharedSignalsResult | Pick<SecurityEventRecord, "userId" | "outcome" | "sessions" | "detail">> {
  if (claims.subject.format !== "opaque" || (o.streamId !== undefined && claims.subject.id !== o.streamId)) return refuse("invalid_subject", "a stream event's sub_id is the stream's opaque id");
  if (event.name === "stream-updated") return { userId: null, outcome: "stream_updated", sessions: 0, detail: `status ${String(event.payload.status)}` };
  const state = event.payload.state;
  if (typeof state === "string") {
    // Asked for: its key is in the store (once() answers false), and is used up now.
    const key = stateKey(o, state);
    const unexpected = await o.replay.once(key, now + 1, now);
    await o.replay.forget(key);
    if (unexpected) return refuse("invalid_state", "this verification's state was not asked for (or was answered already)");
  }
  return { userId: null, outcome: "verified", sessions: 0, detail: typeof state === "string" ? "state matched" : "sent by the transmitter" };
}

/** Validate one SET, take its `jti`, apply each event's effect and record what it did. */
export async function receiveSecurityEvent(o: ResolvedSharedSignals, token: string): Promise<SharedSignalsResult> {
  const now = Math.floor(o.clock() / 1000);
  // Keys are loaded only when jose needs one: a malformed token or a refused algorithm costs no request.
  const keys: JWTVerifyGetKey = async (header, input) => (await o.keys())(header, input);
  const verified = await verifySecurityEvent(token, { issuer: o.issuer, audience: o.audience, keys, algorithms: o.algorithms, maxAge: o.maxAge, clockTolerance: o.clockTolerance, now });
  if (!verified.ok) return verified;
  const { claims } = verified;
  const critical = (await o.metadata().catch(() => null))?.critical_subject_members;
  const unread = unprocessedCritical(claims.subject, Array.isArray(critical) ? critical.filter((c): c is string => typeof c === "string") : []);
  if (unread.length > 0) return refuse("invalid_subject", `critical subject members the receiver cannot process: ${unread.join(", ")}`);
  // The jti is marked received only once the effects are applied and recorded (applyOnce): a
  // failure at any point leaves it unmarked, and the transmitter's retry (push: 503; poll: not
  // acknowledged) applies the SET again; the effects are idempotent.
  const key = `ssf:${claims.iss}:${claims.jti}`;
  // Kept until the SET could no longer pass the age check anyway, on any instance's clock.
  const until = claims.iat + o.maxAge + o.clockTolerance + REPLAY_MARGIN;
  const applied = await applyOnce(o.replay, { key, until, now }, async () => {
    const records: SecurityEventRecord[] = [];
    for (const e of claims.events) {
      const event: ReceivedSecurityEvent = { ...e, iss: claims.iss, jti: claims.jti, iat: claims.iat, ...(claims.txn ? { txn: claims.txn } : {}), subject: claims.subject };
      const stream = e.name === "verification" || e.name === "stream-updated";
      const done = stream ? await streamEvent(o, claims, event, now) : await applyEffect(event, o.effects.get(e.type) ?? "log", o);
      if ("ok" in done) return { value: done, mark: false };
      for (const row of Array.isArray(done) ? done : [done]) records.push({ id: crypto.randomUUID(), issuer: claims.iss, jti: claims.jti, type: eventName(e.type) ?? e.type, issuedAt: claims.iat, receivedAt: now, ...row });
    }
    await o.events.record(records, now);
    return { value: { ok: true as const, claims, records }, mark: true };
  });
  switch (applied.outcome) {
    case "done":
    case "skipped":
      return applied.value;
    case "replayed":
      return refuse("replayed", "this SET's jti was already received");
    case "busy":
      return refuse("effect_failed", "another delivery of this SET is being applied; retry");
    case "failed":
      return refuse("effect_failed", applied.stage === "store" ? applied.detail : `the event's effect could not be applied: ${applied.detail}`);
  }
}
