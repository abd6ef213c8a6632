// An OpenID Shared Signals transmitter (SSF 1.0, CAEP 1.0, RISC 1.0) for the dev provider, as
// strict as a real one: its own metadata at /.well-known/ssf-configuration and its own ES256 key
// at its jwks_uri, SETs typed `secevent+jwt` with `sub_id` and no `sub` or `exp`, push delivery
// (RFC 8935) with the stream's bearer token, poll delivery (RFC 8936) behind its own bearer token,
// and the verification endpoint. A page at /ssf sends each event type for a chosen user or session.
//
//   GET  /.well-known/ssf-configuration   the transmitter's metadata (issuer = the provider's)
//   GET  /ssf/jwks                        its signing key
//   GET  /ssf                             the transmitter page
//   POST /ssf/send                        {event, login?, sid?, subject, delivery, fault?} (form or JSON)
//                                         fault (tests, the page): "forged" (another key, same kid),
//                                         "misaddressed" (another aud), "expired" (iat an hour ago),
//                                         "replay" (the last SET the receiver accepted, sent again)
//   POST /ssf/poll                        RFC 8936 (Authorization: Bearer <pollToken>)
//   POST /ssf/verify                      {stream_id, state} (Authorization: Bearer <pushToken>)
//   GET  /__dev/ssf                       deliveries: status, RFC 8935 error, ms
//
// Never log token values from here.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { SECURITY_EVENT_TYPES, type SecurityEventName } from "../../lib/claims-kit/oidc";

/** Where and how the transmitter delivers. */
export interface SsfTransmitterConfig {
  /** The receiver's push endpoint (its stream's endpoint_url); unset: poll only. */
  pushEndpoint?: string;
  /** The stream's authorization_header token, sent with every push (and asked of verification requests). */
  pushToken?: string;
  /** The receiver's audience (the SETs' `aud`). */
  audience: string;
  /** The bearer token the poll endpoint asks for; unset: polling is refused. */
  pollToken?: string;
  /** The client whose session ids the page names (the app's client id). */
  clientId: string;
}

/** One delivery, as /__dev/ssf and the page list it. */
export interface SsfDelivery {
  jti: string;
  event: string;
  subject: string;
  via: "push" | "poll";
  status: number | "queued" | "error";
  err?: string;
  /** The receiver's code, from its RFC 8935 description (`invalid_audience: …`). */
  code?: string;
  ms: number;
  at: number;
}

type Subject = "session" | "iss_sub" | "email" | "opaque";
type Fault = "forged" | "misaddressed" | "expired" | "replay";
const FAULTS: ReadonlySet<string> = new Set<Fault>(["forged", "misaddressed", "expired", "replay"]);
const STREAM_ID = "dev-stream";
const EVENTS = Object.keys(SECURITY_EVENT_TYPES).filter((n) => n !== "stream-updated") as SecurityEventName[];

/** A payload each event type's definition accepts (CAEP's required members). */
function payloadOf(event: SecurityEventName, now: number): Record<string, unknown> {
  const base = { event_timestamp: now, initiating_entity: "admin" };
  switch (event) {
    case "credential-change": return { ...base, credential_type: "password", change_type: "update" };
    case "assurance-level-change": return { ...base, namespace: "RFC8176", current_level: "pwd", previous_level: "mfa", change_direction: "decrease" };
    case "token-claims-change": return { ...base, claims: { groups: ["users", "changed-at-the-provider"] } };
    case "device-compliance-change": return { ...base, previous_status: "compliant", current_status: "not-compliant" };
    case "account-disabled": return { ...base, reason: "hijacking" };
    case "verification": return {};
    default: return base;
  }
}

export function devSsfTransmitter(options: {
  config: SsfTransmitterConfig;
  subjectOf(login: string): string;
  emailOf(login: string): string;
  liveSessions(): Promise<Array<{ login: string; sids: Record<string, string> }>>;
  page(title: string, body: string): string;
  escapeHtml(value: string): string;
  log(line: string): void;
}) {
  const { config } = options;
  const deliveries: SsfDelivery[] = [];
  const queue = new Map<string, string>();
  let keyPair: Promise<{ privateKey: CryptoKey; jwk: JWK }> | undefined;
  const key = () => (keyPair ??= generateKeyPair("ES256").then(async (pair) => ({ privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid: `ssf-${randomUUID().slice(0, 8)}`, alg: "ES256", use: "sig" } })));
  const record = (d: SsfDelivery) => {
    deliveries.push(d);
    if (deliveries.length > 100) deliveries.shift();
  };

  let lastAccepted: { jti: string; token: string } | undefined;
  async function sign(issuer: string, event: SecurityEventName, subId: Record<string, unknown>, fault?: Fault): Promise<{ jti: string; token: string }> {
    const { privateKey, jwk } = await key();
    const now = Math.floor(Date.now() / 1000);
    const jti = randomUUID();
    const payload = {
      iss: issuer,
      aud: fault === "misaddressed" ? `${config.audience}/another-receiver` : config.audience,
      iat: fault === "expired" ? now - 3600 : now,
      jti,
      txn: randomUUID(),
      sub_id: subId,
      events: { [SECURITY_EVENT_TYPES[event]]: payloadOf(event, now) },
    };
    const signingKey = fault === "forged" ? (await generateKeyPair("ES256")).privateKey : privateKey;
    return { jti, token: await new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: "secevent+jwt", kid: jwk.kid }).sign(signingKey) };
  }

  async function deliver(event: SecurityEventName, subject: string, via: "push" | "poll", set: { jti: string; token: string }): Promise<SsfDelivery> {
    const base = { jti: set.jti, event, subject, via, at: Date.now() };
    if (via === "poll" || !config.pushEndpoint) {
      queue.set(set.jti, set.token);
      const d: SsfDelivery = { ...base, via: "poll", status: "queued", ms: 0 };
      record(d);
      return d;
    }
    const started = performance.now();
    let d: SsfDelivery;
    try {
      const response = await fetch(config.pushEndpoint, {
        method: "POST",
        headers: { "content-type": "application/secevent+jwt", accept: "application/json", ...(config.pushToken ? { authorization: `Bearer ${config.pushToken}` } : {}) },
        body: set.token,
        signal: AbortSignal.timeout(5000),
      });
      const text = await response.text();
      const error = response.status === 202 ? undefined : (JSON.parse(text || "{}") as { err?: string; description?: string });
      const err = error ? (error.err ?? `HTTP ${response.status}`) : undefined;
      const code = error?.description?.split(":")[0];
      d = { ...base, status: response.status, ...(err ? { err } : {}), ...(code ? { code } : {}), ms: Math.round((performance.now() - started) * 10) / 10 };
      if (response.status === 202) lastAccepted = set;
    } catch (error) {
      d = { ...base, status: "error", err: error instanceof Error ? error.message : String(error), ms: Math.round((performance.now() - started) * 10) / 10 };
    }
    options.log(`ssf ${event} delivered status=${d.status}${d.err ? ` err=${d.err}` : ""}`);
    record(d);
    return d;
  }

  /** Build the subject a page choice names: a session (complex user + session, or opaque), or a user. */
  async function subjectFor(issuer: string, input: { login?: string; sid?: string; subject?: string }): Promise<{ subId: Record<string, unknown>; label: string } | string> {
    const kind = (input.subject ?? "session") as Subject;
    const sessions = await options.liveSessions();
    const chosen = input.sid ? sessions.find((s) => s.sids[config.clientId] === input.sid) : sessions.find((s) => s.login === input.login);
    const login = chosen?.login ?? input.login;
    if (!login) return "choose a user or a session";
    const user = { format: "iss_sub", iss: issuer, sub: options.subjectOf(login) };
    const sid = input.sid ?? chosen?.sids[config.clientId];
    switch (kind) {
      case "iss_sub": return { subId: user, label: `iss_sub ${user.sub}` };
      case "email": return { subId: { format: "email", email: options.emailOf(login) }, label: `email ${options.emailOf(login)}` };
      case "session":
      case "opaque":
        if (!sid) return `${login} has no session with ${config.clientId}`;
        return kind === "session" ? { subId: { format: "complex", user, session: { format: "opaque", id: sid } }, label: `session ${sid}` } : { subId: { format: "opaque", id: sid }, label: `opaque ${sid}` };
      default: return "subject must be session, iss_sub, email or opaque";
    }
  }

  async function send(issuer: string, input: Record<string, string | undefined>): Promise<SsfDelivery | string> {
    const event = input.event as SecurityEventName;
    if (!EVENTS.includes(event)) return `event must be one of ${EVENTS.join(", ")}`;
    const fault = input.fault ? (FAULTS.has(input.fault) ? (input.fault as Fault) : null) : undefined;
    if (fault === null) return `fault must be one of ${[...FAULTS].join(", ")}`;
    const via = input.delivery === "poll" ? "poll" : "push";
    if (fault === "replay") return lastAccepted ? deliver(event, "the last SET accepted, again", via, lastAccepted) : "no SET was accepted yet";
    const subject = event === "verification" ? { subId: { format: "opaque", id: STREAM_ID }, label: `stream ${STREAM_ID}` } : await subjectFor(issuer, input);
    if (typeof subject === "string") return subject;
    return deliver(event, fault ? `${subject.label} (${fault})` : subject.label, via, await sign(issuer, event, subject.subId, fault));
  }

  async function transmitterPage(issuer: string, notice: string): Promise<string> {
    const h = options.escapeHtml;
    const sessions = (await options.liveSessions()).filter((s) => s.sids[config.clientId]);
    const rows = deliveries.slice(-10).reverse().map((d) => `<tr><td>${h(d.event)}</td><td>${h(d.subject)}</td><td>${d.via}</td><td data-testid="ssf-status">${h(String(d.status))}${d.err ? ` ${h(d.err)}` : ""}${d.code ? ` (${h(d.code)})` : ""}</td><td>${d.ms} ms</td></tr>`).join("");
    return options.page("Shared Signals transmitter", `
<p>Issuer <code>${h(issuer)}</code>, pushing to <code>${h(config.pushEndpoint ?? "(poll only)")}</code> for audience <code>${h(config.audience)}</code>.</p>
${notice ? `<p role="status" data-testid="ssf-notice">${h(notice)}</p>` : ""}
<form method="post" action="/ssf/send">
<p><label>Event <select name="event">${EVENTS.map((e) => `<option>${e}</option>`).join("")}</select></label></p>
<p><label>Session <select name="sid"><option value="">(by user below)</option>${sessions.map((s) => `<option value="${h(s.sids[config.clientId]!)}">${h(s.login)}: ${h(s.sids[config.clientId]!)}</option>`).join("")}</select></label></p>
<p><label>User (login) <input name="login" placeholder="alice@example.com"></label></p>
<p><label>Subject <select name="subject"><option value="session">session (complex: user + session)</option><option value="iss_sub">user (iss_sub)</option><option value="email">user (email)</option><option value="opaque">session id (opaque)</option></select></label></p>
<p><label>Delivery <select name="delivery"><option value="push">push (RFC 8935)</option><option value="poll">poll (RFC 8936)</option></select></label></p>
<p><label>Tamper <select name="fault"><option value="">no: a valid SET</option><option value="forged">forged (another key)</option><option value="misaddressed">misaddressed (another aud)</option><option value="expired">expired (iat an hour ago)</option><option value="replay">replay the last accepted SET</option></select></label></p>
<button type="submit">Send event</button>
</form>
<h2>Deliveries</h2><table><thead><tr><th>event</th><th>subject</th><th>via</th><th>answer</th><th>time</th></tr></thead><tbody>${rows}</tbody></table>`);
  }

  return {
    /** The dev endpoints; returns whether it answered. */
    async handle(req: IncomingMessage, res: ServerResponse, path: string, issuer: string, readBody: (req: IncomingMessage) => Promise<Buffer>): Promise<boolean> {
      const json = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        res.end(text);
      };
      const bearer = (token: string | undefined) => token !== undefined && req.headers.authorization === `Bearer ${token}`;
      if (path === "/.well-known/ssf-configuration" && req.method === "GET") {
        json(200, {
          spec_version: "1_0",
          issuer,
          jwks_uri: `${issuer}/ssf/jwks`,
          delivery_methods_supported: ["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"],
          verification_endpoint: `${issuer}/ssf/verify`,
          authorization_schemes: [{ spec_urn: "urn:ietf:rfc:6750" }],
          default_subjects: "ALL",
        });
        return true;
      }
      if (path === "/ssf/jwks" && req.method === "GET") {
        json(200, { keys: [(await key()).jwk] });
        return true;
      }
      if (path === "/__dev/ssf" && req.method === "GET") {
        json(200, { deliveries, queued: queue.size });
        return true;
      }
      if (path === "/ssf" && req.method === "GET") {
        const html = await transmitterPage(issuer, new URL(req.url ?? "/", "http://x").searchParams.get("notice") ?? "");
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(html), "cache-control": "no-store" });
        res.end(html);
        return true;
      }
      if (path === "/ssf/send" && req.method === "POST") {
        const text = (await readBody(req)).toString("utf8");
        const isJson = (req.headers["content-type"] ?? "").startsWith("application/json");
        let input: Record<string, string | undefined>;
        try {
          input = isJson ? (JSON.parse(text) as Record<string, string>) : Object.fromEntries(new URLSearchParams(text));
        } catch {
          json(400, { error: "body must be JSON or a form" });
          return true;
        }
        const result = await send(issuer, input);
        if (isJson) json(typeof result === "string" ? 400 : 200, typeof result === "string" ? { error: result } : result);
        else {
          const notice = typeof result === "string" ? result : `${result.event} (${result.subject}): ${result.status}${result.err ? ` ${result.err}` : ""}${result.code ? ` (${result.code})` : ""}`;
          res.writeHead(303, { location: `/ssf?${new URLSearchParams({ notice })}` });
          res.end();
        }
        return true;
      }
      if (path === "/ssf/poll" && req.method === "POST") {
        if (!bearer(config.pollToken)) {
          json(401, { error: "invalid_token" });
          return true;
        }
        let body: { ack?: unknown; setErrs?: unknown; maxEvents?: unknown; returnImmediately?: unknown };
        try {
          body = JSON.parse((await readBody(req)).toString("utf8") || "{}") as typeof body;
        } catch {
          json(400, { error: "invalid_request" });
          return true;
        }
        const acks = Array.isArray(body.ack) ? body.ack : [];
        const errs = typeof body.setErrs === "object" && body.setErrs !== null ? Object.keys(body.setErrs) : [];
        if (!acks.every((a) => typeof a === "string") || (body.maxEvents !== undefined && !Number.isSafeInteger(body.maxEvents))) {
          json(400, { error: "invalid_request" });
          return true;
        }
        for (const jti of [...(acks as string[]), ...errs]) queue.delete(jti);
        for (const jti of errs) options.log(`ssf poll: receiver refused ${jti}`);
        const max = Math.max(0, Math.min(100, (body.maxEvents as number | undefined) ?? 25));
        const sets = Object.fromEntries([...queue].slice(0, max));
        json(200, { sets, moreAvailable: queue.size > Object.keys(sets).length });
        return true;
      }
      if (path === "/ssf/verify" && req.method === "POST") {
        if (!bearer(config.pushToken)) {
          json(401, { error: "invalid_token" });
          return true;
        }
        let body: { stream_id?: unknown; state?: unknown };
        try {
          body = JSON.parse((await readBody(req)).toString("utf8")) as typeof body;
        } catch {
          json(400, { error: "invalid_request" });
          return true;
        }
        if (body.stream_id !== STREAM_ID) {
          json(404, { error: "no such stream" });
          return true;
        }
        res.writeHead(204, { "cache-control": "no-store" });
        res.end();
        const { privateKey, jwk } = await key();
        const now = Math.floor(Date.now() / 1000);
        const jti = randomUUID();
        const token = await new SignJWT({ iss: issuer, aud: config.audience, iat: now, jti, sub_id: { format: "opaque", id: STREAM_ID }, events: { [SECURITY_EVENT_TYPES.verification]: typeof body.state === "string" ? { state: body.state } : {} } })
          .setProtectedHeader({ alg: "ES256", typ: "secevent+jwt", kid: jwk.kid }).sign(privateKey);
        await deliver("verification", `stream ${STREAM_ID}`, "push", { jti, token });
        return true;
      }
      return false;
    },
  };
}
