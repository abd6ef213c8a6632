// OIDC Back-Channel Logout 1.0 for the dev provider: oidc-provider's own feature, switched on,
// plus what a real provider's admin console has and oidc-provider does not: ending every session
// of a user (POST /__dev/end-sessions), which sends a logout token to each client, as a user's
// sign-out at /session/end does.
//
//   POST /__dev/end-sessions {"login": "alice@example.com"}  -> { sessions, notified, failed }
//   GET  /__dev/backchannel                                  -> logout-token deliveries (status, ms)
//
// Never log token values from here.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Adapter, AdapterPayload, Configuration, Provider } from "oidc-provider";

/** One logout token POSTed to a client: where, the answer, and how long it took. */
export interface BackchannelDelivery {
  uri: string;
  status: number | "error";
  ms: number;
  at: number;
}

/** Client metadata for a client that receives logout tokens (the id_token then carries `sid`). */
export function backchannelClientMetadata(uri: string | undefined): Record<string, unknown> {
  return uri ? { backchannel_logout_uri: uri, backchannel_logout_session_required: true } : {};
}

function isLogoutDelivery(options: RequestInit | undefined): boolean {
  return options?.method === "POST" && options.body instanceof URLSearchParams && options.body.has("logout_token");
}

/**
 * Back-channel logout for one provider instance: its configuration, the tracking of provider
 * sessions (so an admin can end a user's), and the dev endpoints.
 */
export function devBackchannel(options: { subjectOf(accountId: string): string; log(line: string): void }) {
  const deliveries: BackchannelDelivery[] = [];
  const sessionIds = new Set<string>();
  let provider: Provider | undefined;

  /**
   * oidc-provider guards its outgoing requests against loopback and private addresses (SSRF); the
   * apps it serves here live on 127.0.0.1, so the guard is lifted for this dev provider only.
   * Logout-token deliveries are timed for /__dev/backchannel.
   */
  const fetchWithoutGuard: NonNullable<Configuration["fetch"]> = async (url, init) => {
    const request = init as (RequestInit & { dispatcher?: unknown }) | undefined;
    if (request) delete request.dispatcher;
    if (!isLogoutDelivery(request)) return fetch(url, request);
    const started = performance.now();
    const record = (status: number | "error") => {
      deliveries.push({ uri: String(url), status, ms: Math.round((performance.now() - started) * 10) / 10, at: Date.now() });
      if (deliveries.length > 100) deliveries.shift();
    };
    try {
      const response = await fetch(url, request);
      record(response.status);
      options.log(`backchannel logout delivered status=${response.status}`);
      return response;
    } catch (err) {
      record("error");
      throw err;
    }
  };

  /** What an admin's "end this user's sessions" does: logout tokens, grants revoked, sessions gone. */
  async function endSessionsOf(login: string): Promise<{ sessions: number; notified: number; failed: number }> {
    if (!provider) throw new Error("provider not attached");
    const subject = options.subjectOf(login);
    let sessions = 0;
    let notified = 0;
    let failed = 0;
    for (const id of [...sessionIds]) {
      const session = await provider.Session.find(id);
      if (!session) {
        sessionIds.delete(id);
        continue;
      }
      if (!session.accountId || options.subjectOf(session.accountId) !== subject) continue;
      sessions += 1;
      for (const clientId of Object.keys(session.authorizations ?? {})) {
        const client = await provider.Client.find(clientId);
        const grantId = session.grantIdFor(clientId);
        if (client?.backchannelLogoutUri) {
          try {
            await client.backchannelLogout(session.accountId, session.sidFor(clientId));
            notified += 1;
          } catch (err) {
            failed += 1;
            options.log(`backchannel logout failed client=${clientId}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        if (grantId) {
          await Promise.all([provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode].map((model) => model.revokeByGrantId(grantId)));
          await (await provider.Grant.find(grantId))?.destroy();
        }
      }
      await session.destroy();
    }
    options.log(`admin ended sessions=${sessions} notified=${notified} failed=${failed}`);
    return { sessions, notified, failed };
  }

  /** The provider's live sessions: the login, and the sid each client was given (the Shared Signals transmitter names them). */
  async function liveSessions(): Promise<Array<{ login: string; sids: Record<string, string> }>> {
    if (!provider) return [];
    const out: Array<{ login: string; sids: Record<string, string> }> = [];
    for (const id of [...sessionIds]) {
      const session = await provider.Session.find(id);
      if (!session?.accountId) continue;
      const sids: Record<string, string> = {};
      for (const clientId of Object.keys(session.authorizations ?? {})) {
        const sid = session.sidFor(clientId);
        if (sid) sids[clientId] = sid;
      }
      out.push({ login: session.accountId, sids });
    }
    return out;
  }

  return {
    endSessionsOf,
    liveSessions,

    /** Top-level configuration: outgoing requests without the SSRF guard (see above). */
    configuration(): Pick<Configuration, "fetch"> {
      return { fetch: fetchWithoutGuard };
    },
    /** For `features`: oidc-provider's back-channel logout. */
    features: { backchannelLogout: { enabled: true } },

    /** Wrap the adapter factory: remember which provider sessions exist. */
    trackSessions(factory: (name: string) => Adapter): (name: string) => Adapter {
      return (name) => {
        const adapter = factory(name);
        if (name !== "Session") return adapter;
        return {
          ...adapter,
          upsert: async (id: string, payload: AdapterPayload, expiresIn: number | undefined) => {
            sessionIds.add(id);
            await adapter.upsert(id, payload, expiresIn);
          },
          destroy: async (id: string) => {
            sessionIds.delete(id);
            await adapter.destroy(id);
          },
          find: (id: string) => adapter.find(id),
          findByUid: (uid: string) => adapter.findByUid(uid),
          findByUserCode: (code: string) => adapter.findByUserCode(code),
          consume: (id: string) => adapter.consume(id),
          revokeByGrantId: (grantId: string) => adapter.revokeByGrantId(grantId),
        };
      };
    },

    attach(p: Provider): void {
      provider = p;
      p.on("backchannel.error", (_ctx, err) => options.log(`backchannel logout failed: ${err.message}`));
    },

    /** The dev endpoints; returns whether it answered. */
    async handle(req: IncomingMessage, res: ServerResponse, path: string, readBody: (req: IncomingMessage) => Promise<Buffer>): Promise<boolean> {
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
        res.end(text);
      };
      if (path === "/__dev/backchannel" && req.method === "GET") {
        send(200, { deliveries });
        return true;
      }
      if (path === "/__dev/end-sessions" && req.method === "POST") {
        let login: unknown;
        try {
          login = (JSON.parse((await readBody(req)).toString("utf8") || "{}") as { login?: unknown }).login;
        } catch {
          send(400, { error: "body must be JSON" });
          return true;
        }
        if (typeof login !== "string" || login.trim() === "") {
          send(400, { error: "login must be a non-empty string" });
          return true;
        }
        send(200, await endSessionsOf(login));
        return true;
      }
      return false;
    },
  };
}
