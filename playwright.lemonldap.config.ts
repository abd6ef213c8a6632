// The reference app in Chromium against LemonLDAP::NG (a second, independent OpenID provider),
// through its real login, consent and logout pages. `npm test` runs it when
// scripts/lemonldap/install.sh could install LemonLDAP (E2E_LEMONLDAP=1).
import { defineConfig } from "@playwright/test";
import { sharedConfig, sharedUse } from "./tests/e2e/browser";

const port = Number(process.env.E2E_LLNG_APP_PORT ?? 3101);
const llngPort = Number(process.env.E2E_LLNG_PORT ?? 9110);
export const LLNG = {
  issuer: `http://${process.env.LLNG_HOST ?? "auth.llng.test"}:${llngPort}`,
  control: `http://127.0.0.1:${llngPort + 1}`,
  // An id with hyphens, which LemonLDAP's Basic authentication takes literally.
  clientId: "claims-kit-app",
  clientSecret: "claims-kit-llng-e2e-secret",
  accessTokenTtl: 6,
};

export default defineConfig({
  testDir: "tests/e2e-lemonldap",
  ...sharedConfig,
  use: { baseURL: `http://localhost:${port}`, ...sharedUse },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: [
    {
      command: "node_modules/.bin/tsx scripts/lemonldap/serve.ts",
      url: `${LLNG.issuer}/.well-known/openid-configuration`,
      env: {
        LLNG_PORT: String(llngPort),
        LLNG_CONTROL_PORT: String(llngPort + 1),
        AUTH_OIDC_ID: LLNG.clientId,
        AUTH_OIDC_SECRET: LLNG.clientSecret,
        LLNG_REDIRECT_URIS: `http://localhost:${port}/api/auth/callback/oidc`,
        LLNG_POST_LOGOUT_URIS: `http://localhost:${port}/`,
        LLNG_ACCESS_TOKEN_TTL: String(LLNG.accessTokenTtl),
      },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: "bash scripts/e2e-server.sh",
      url: `http://localhost:${port}/api/auth/providers`,
      env: {
        E2E_PORT: String(port),
        E2E_DB: "e2e-lemonldap",
        E2E_OIDC_ISSUER: LLNG.issuer,
        E2E_OIDC_ID: LLNG.clientId,
        E2E_OIDC_SECRET: LLNG.clientSecret,
        // Refresh when the 6-second token has expired, not a minute before.
        OAUTH_REFRESH_SKEW: "0",
      },
      reuseExistingServer: false,
      timeout: 240_000,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
