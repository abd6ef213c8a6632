// The reference app in Chromium under Auth.js's database strategy (AUTH_SESSION_STRATEGY=database):
// the same build as the main e2e, another port and database, the bundled provider.
import { defineConfig } from "@playwright/test";
import { sharedConfig, sharedUse } from "./tests/e2e/browser";

const port = Number(process.env.E2E_DB_APP_PORT ?? 3102);
export const PROVIDER = `http://127.0.0.1:${Number(process.env.E2E_DB_OIDC_PORT ?? 9102)}`;

export default defineConfig({
  testDir: "tests/e2e-database",
  ...sharedConfig,
  use: { baseURL: `http://localhost:${port}`, ...sharedUse },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: "bash scripts/e2e-server.sh",
    url: `http://localhost:${port}/api/auth/providers`,
    env: { E2E_PORT: String(port), E2E_OIDC_PORT: new URL(PROVIDER).port, E2E_DB: "e2e-database", AUTH_SESSION_STRATEGY: "database" },
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
