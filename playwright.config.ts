import { defineConfig } from "@playwright/test";
import { sharedConfig, sharedUse } from "./tests/e2e/browser";

const port = Number(process.env.E2E_PORT ?? 3100);

export default defineConfig({
  testDir: "tests/e2e",
  // One app, one database: tests that change shared rows must not interleave.
  ...sharedConfig,
  use: { baseURL: `http://localhost:${port}`, ...sharedUse },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: "bash scripts/e2e-server.sh",
    url: `http://localhost:${port}/api/auth/providers`,
    reuseExistingServer: false,
    timeout: 240_000,
    stdout: "pipe",
    stderr: "pipe",
  },
});
