// Starts the development OpenID provider (scripts/oidc/provider.ts) from environment variables:
//   OIDC_PORT              default 9000
//   OIDC_HOST              default 127.0.0.1
//   AUTH_OIDC_ID           default reference-app
//   AUTH_OIDC_SECRET       default reference-app-dev-secret
//   AUTH_OIDC_TOKEN_AUTH_METHOD  the client's token_endpoint_auth_method, as the app sends it (default client_secret_basic)
//   OIDC_REDIRECT_URIS     comma-separated, default http://localhost:3000/api/auth/callback/oidc
//   OIDC_POST_LOGOUT_URIS  comma-separated, default http://localhost:3000/
//   OIDC_BACKCHANNEL_LOGOUT_URI  where logout tokens go, default http://127.0.0.1:3000/api/auth/backchannel-logout
//   AUTH_WORK_ID / AUTH_WORK_SECRET  a second client (the app's "work" provider, for linked accounts), when set
//   OIDC_SSF_PUSH_URI      the Shared Signals transmitter's push target (unset: no transmitter), e.g. http://127.0.0.1:3000/api/auth/ssf/events
//   AUTH_SSF_AUDIENCE      the SETs' aud (default http://localhost:3000); AUTH_SSF_PUSH_TOKEN, AUTH_SSF_POLL_TOKEN as the app has them

import { startOidcProvider, type OidcClientConfig } from "./oidc/provider";

function list(value: string | undefined, fallback: string): string[] {
  const items = (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return items.length > 0 ? items : [fallback];
}

function port(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return 9000;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new Error(`OIDC_PORT must be a port number, got ${JSON.stringify(value)}`);
  }
  return parsed;
}

async function main(): Promise<void> {
  const provider = await startOidcProvider({
    port: port(process.env.OIDC_PORT),
    host: process.env.OIDC_HOST || "127.0.0.1",
    clients: [
      {
        clientId: process.env.AUTH_OIDC_ID || "reference-app",
        // Registered the way the app authenticates (auth.config.ts checks the value at its start-up).
        tokenEndpointAuthMethod: (process.env.AUTH_OIDC_TOKEN_AUTH_METHOD || "client_secret_basic") as OidcClientConfig["tokenEndpointAuthMethod"],
        ...(process.env.AUTH_OIDC_TOKEN_AUTH_METHOD === "none" ? {} : { clientSecret: process.env.AUTH_OIDC_SECRET || "reference-app-dev-secret" }),
        redirectUris: list(
          process.env.OIDC_REDIRECT_URIS,
          "http://localhost:3000/api/auth/callback/oidc",
        ),
        postLogoutRedirectUris: list(process.env.OIDC_POST_LOGOUT_URIS, "http://localhost:3000/"),
        backchannelLogoutUri: process.env.OIDC_BACKCHANNEL_LOGOUT_URI || "http://127.0.0.1:3000/api/auth/backchannel-logout",
      },
      ...(process.env.AUTH_WORK_ID && process.env.AUTH_WORK_SECRET
        ? [{
            clientId: process.env.AUTH_WORK_ID,
            clientSecret: process.env.AUTH_WORK_SECRET,
            // The same app, its second provider's callback.
            redirectUris: list(process.env.OIDC_REDIRECT_URIS, "http://localhost:3000/api/auth/callback/oidc").map((uri) => uri.replace(/\/callback\/oidc$/, "/callback/work")),
            postLogoutRedirectUris: list(process.env.OIDC_POST_LOGOUT_URIS, "http://localhost:3000/"),
          }]
        : []),
    ],
    logger: (line) => console.log(`[oidc] ${line}`),
    ...(process.env.OIDC_SSF_PUSH_URI
      ? { ssf: { pushEndpoint: process.env.OIDC_SSF_PUSH_URI, pushToken: process.env.AUTH_SSF_PUSH_TOKEN || undefined, pollToken: process.env.AUTH_SSF_POLL_TOKEN || undefined, audience: process.env.AUTH_SSF_AUDIENCE || "http://localhost:3000" } }
      : {}),
  });

  console.log(`oidc-provider listening on ${provider.issuer}`);

  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    console.log(`oidc-provider received ${signal}, closing`);
    provider.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error("oidc-provider failed to close:", err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

main().catch((err: unknown) => {
  console.error("oidc-provider failed to start:", err);
  process.exit(1);
});
