// Runs one LemonLDAP::NG instance until SIGINT/SIGTERM, for Playwright's `webServer` or by hand,
// with a small control server so tests in other processes can read its counts and revoke grants:
//
//   GET  http://127.0.0.1:<LLNG_CONTROL_PORT>/counts            -> LlngCounts (JSON)
//   POST http://127.0.0.1:<LLNG_CONTROL_PORT>/reset             -> counts start again from zero
//   POST http://127.0.0.1:<LLNG_CONTROL_PORT>/end-offline-sessions?user=dwho -> { deleted }
//
// Environment (all optional):
//   LLNG_PORT                  portal/issuer port, default 9100 (0: a free one)
//   LLNG_CONTROL_PORT          default LLNG_PORT + 1 (0: a free one)
//   AUTH_OIDC_ID / AUTH_OIDC_SECRET   default claims-kit-app / claims-kit-llng-secret
//   LLNG_REDIRECT_URIS         comma-separated, default http://localhost:3000/api/auth/callback/oidc
//   LLNG_POST_LOGOUT_URIS      comma-separated, default http://localhost:3000/
//   LLNG_ACCESS_TOKEN_TTL      seconds, default 3600
//   LLNG_ID_TOKEN_CLAIMS=1     profile claims in the id_token too (IDTokenForceClaims)
//   LLNG_FIX_LOGOUT_REDIRECT=1 back to post_logout_redirect_uri after logout (see llng.ts)
//   LLNG_KEEP=1                keep the state directory (logs) after stopping
// Prints one line "lemonldap: <issuer> (control http://127.0.0.1:<port>)" when ready.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { startLemonLdap, type RunningLemonLdap } from "./llng";

function list(value: string | undefined, fallback: string): string[] {
  const items = (value ?? "").split(",").map((item) => item.trim()).filter((item) => item.length > 0);
  return items.length > 0 ? items : [fallback];
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return value;
}

function flag(name: string): boolean {
  return ["1", "true", "yes"].includes((process.env[name] ?? "").toLowerCase());
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/** The control endpoints; loopback only, no body parsing needed. */
function controlHandler(llng: RunningLemonLdap) {
  return async function control(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    try {
      if (req.method === "GET" && url.pathname === "/counts") return send(res, 200, await llng.counts());
      if (req.method === "POST" && url.pathname === "/reset") {
        await llng.resetCounts();
        return send(res, 200, { ok: true });
      }
      if (req.method === "POST" && url.pathname === "/end-offline-sessions") {
        const user = url.searchParams.get("user");
        if (!user) return send(res, 400, { error: "user query parameter required" });
        return send(res, 200, { deleted: await llng.endOfflineSessions(user) });
      }
      send(res, 404, { error: "not found" });
    } catch (error) {
      send(res, 500, { error: error instanceof Error ? error.message : String(error) });
    }
  };
}

async function main(): Promise<void> {
  const port = integer("LLNG_PORT", 9100);
  const llng = await startLemonLdap({
    port,
    keepStateDir: flag("LLNG_KEEP"),
    fixLogoutRedirect: flag("LLNG_FIX_LOGOUT_REDIRECT"),
    clients: [
      {
        clientId: process.env.AUTH_OIDC_ID || "claims-kit-app",
        clientSecret: process.env.AUTH_OIDC_SECRET || "claims-kit-llng-secret",
        redirectUris: list(process.env.LLNG_REDIRECT_URIS, "http://localhost:3000/api/auth/callback/oidc"),
        postLogoutRedirectUris: list(process.env.LLNG_POST_LOGOUT_URIS, "http://localhost:3000/"),
        accessTokenTtl: integer("LLNG_ACCESS_TOKEN_TTL", 3600),
        idTokenForceClaims: flag("LLNG_ID_TOKEN_CLAIMS"),
      },
    ],
  });
  const handle = controlHandler(llng);
  const control = createServer((req, res) => void handle(req, res));
  const controlPort = integer("LLNG_CONTROL_PORT", port === 0 ? 0 : port + 1);
  await new Promise<void>((resolve, reject) => {
    control.once("error", reject);
    control.listen(controlPort, "127.0.0.1", resolve);
  });
  const address = control.address();
  const boundControl = typeof address === "object" && address ? address.port : controlPort;
  console.log(`lemonldap: ${llng.issuer} (control http://127.0.0.1:${boundControl})`);

  const stop = async (): Promise<void> => {
    control.close();
    await llng.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop());
  process.once("SIGTERM", () => void stop());
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
