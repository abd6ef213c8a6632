// Run with the repository root's Playwright (the example does not install its own):
//   node_modules/.bin/playwright test -c examples/database/playwright.config.ts   (from the root)
// Needs `next build` and a migrated database in examples/database first (test.sh does everything).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";
// Shared with the root's config (this config runs on the root's Playwright).
import { sharedConfig, sharedUse } from "../../tests/e2e/browser";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
// test.sh picks two free ports and a fresh database and passes them in; these defaults are for a run by hand.
const APP_PORT = Number(process.env.DATABASE_EXAMPLE_PORT ?? 3300);
const OIDC_PORT = Number(process.env.DATABASE_EXAMPLE_OIDC_PORT ?? 9300);
/** The SQLite file the app runs on, for the specs (they seed it and read its rows). */
export const DB_FILE = path.resolve(process.env.DATABASE_EXAMPLE_DB ?? path.join(here, ".data", "app.db"));
const CLIENT_ID = "database-app";
const CLIENT_SECRET = "database-secret";
const APP_URL = `http://localhost:${APP_PORT}`;

// The servers inherit this process's environment: drop what would point Auth.js or Prisma elsewhere
// (the root's scripts/env.sh exports settings for the reference app on port 3000).
for (const name of ["AUTH_URL", "NEXTAUTH_URL", "AUTH_REDIRECT_PROXY_URL", "DATABASE_URL"]) delete process.env[name];

export default defineConfig({
  testDir: "tests",
  ...sharedConfig,
  use: { baseURL: APP_URL, ...sharedUse },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: [
    {
      // The root's bundled dev OpenID provider, with this app registered as a client.
      command: "node_modules/.bin/tsx scripts/oidc-provider.ts",
      cwd: root,
      url: `http://127.0.0.1:${OIDC_PORT}/.well-known/openid-configuration`,
      env: {
        OIDC_PORT: String(OIDC_PORT),
        OIDC_HOST: "127.0.0.1",
        AUTH_OIDC_ID: CLIENT_ID,
        AUTH_OIDC_SECRET: CLIENT_SECRET,
        OIDC_REDIRECT_URIS: `${APP_URL}/api/auth/callback/oidc`,
        OIDC_POST_LOGOUT_URIS: `${APP_URL}/`,
      },
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      // The example, built beforehand (test.sh), served on localhost (not 127.0.0.1: PKCE cookies).
      command: `node_modules/.bin/next start -p ${APP_PORT} -H localhost`,
      cwd: here,
      url: `${APP_URL}/api/auth/providers`,
      env: {
        NEXT_TELEMETRY_DISABLED: "1",
        AUTH_SECRET: "database-example-test-secret-0123456789abcdef",
        DATABASE_URL: `file:${DB_FILE}`,
        AUTH_OIDC_ISSUER: `http://127.0.0.1:${OIDC_PORT}`,
        AUTH_OIDC_ID: CLIENT_ID,
        AUTH_OIDC_SECRET: CLIENT_SECRET,
      },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
      stderr: "pipe",
    },
  ],
});
