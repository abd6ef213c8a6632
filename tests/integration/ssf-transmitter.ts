// A Shared Signals transmitter the integration tests control: its metadata
// (/.well-known/ssf-configuration), its JWKS, a poll endpoint (RFC 8936) and a verification
// endpoint, on 127.0.0.1, counting every request. The tests build and sign each SET themselves
// (jose), so every rule of the receiver can be tried on a validly signed token.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { SECURITY_EVENT_TYPES, type SecurityEventName } from "../../lib/claims-kit/oidc";

export type TestTransmitter = Awaited<ReturnType<typeof startTestTransmitter>>;

export async function startTestTransmitter(options: { audience: string; pollToken?: string }) {
  const key = await generateKeyPair("ES256");
  const jwks = { keys: [{ ...(await exportJWK(key.publicKey)), kid: "tx-1", alg: "ES256", use: "sig" }] };
  const counts = { metadata: 0, jwks: 0, poll: 0, verify: 0 };
  const state = {
    /** Answer the metadata and JWKS with 503 while set. */
    down: false,
    /** More members of the metadata document. */
    metadata: {} as Record<string, unknown>,
    /** SETs the poll endpoint hands out, by jti; acknowledged ones are removed. */
    queue: new Map<string, string>(),
    /** Every poll request's body, and the setErrs reported. */
    polls: [] as Array<{ ack: string[]; setErrs?: Record<string, { err: string; description: string }>; maxEvents: number }>,
    verifications: [] as Array<{ stream_id: string; state?: string }>,
  };
  let issuer = "";
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const body = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/.well-known/ssf-configuration") {
        counts.metadata++;
        if (state.down) return json(res, 503, { error: "down" });
        return json(res, 200, { spec_version: "1_0", issuer, jwks_uri: `${issuer}/jwks`, delivery_methods_supported: ["urn:ietf:rfc:8935", "urn:ietf:rfc:8936"], verification_endpoint: `${issuer}/verify`, ...state.metadata });
      }
      if (path === "/jwks") {
        counts.jwks++;
        return state.down ? json(res, 503, { error: "down" }) : json(res, 200, jwks);
      }
      if (path === "/poll" && req.method === "POST") {
        counts.poll++;
        if (options.pollToken && req.headers.authorization !== `Bearer ${options.pollToken}`) return json(res, 401, { error: "unauthorized" });
        const request = JSON.parse(await body(req)) as (typeof state.polls)[number];
        state.polls.push(request);
        for (const jti of request.ack ?? []) state.queue.delete(jti);
        for (const jti of Object.keys(request.setErrs ?? {})) state.queue.delete(jti);
        const sets = Object.fromEntries([...state.queue].slice(0, request.maxEvents));
        return json(res, 200, { sets, moreAvailable: state.queue.size > Object.keys(sets).length });
      }
      if (path === "/verify" && req.method === "POST") {
        counts.verify++;
        state.verifications.push(JSON.parse(await body(req)) as (typeof state.verifications)[number]);
        res.writeHead(204);
        return res.end();
      }
      json(res, 404, { error: "not found" });
    })().catch(() => {
      res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** A SET's claims: this transmitter, the receiver's audience, now, a new jti, then `over` (undefined deletes). */
  function claims(event: SecurityEventName | string, subject: Record<string, unknown> | undefined, payload: Record<string, unknown> = {}, over: Record<string, unknown> = {}): JWTPayload {
    const type = event in SECURITY_EVENT_TYPES ? SECURITY_EVENT_TYPES[event as SecurityEventName] : event;
    const all: Record<string, unknown> = { iss: issuer, aud: options.audience, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), txn: randomUUID(), sub_id: subject, events: { [type]: payload }, ...over };
    for (const [name, value] of Object.entries(all)) if (value === undefined) delete all[name];
    return all as JWTPayload;
  }
  /** Sign with the transmitter's key (header members may be replaced). */
  const sign = (payload: JWTPayload, header: Record<string, unknown> = {}) => new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: "secevent+jwt", kid: "tx-1", ...header }).sign(key.privateKey);

  return {
    get issuer() {
      return issuer;
    },
    counts,
    state,
    claims,
    sign,
    /** claims() then sign(). */
    event: (event: SecurityEventName | string, subject: Record<string, unknown> | undefined, payload?: Record<string, unknown>, over?: Record<string, unknown>) => sign(claims(event, subject, payload, over)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
