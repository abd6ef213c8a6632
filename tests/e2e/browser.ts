// The Chromium every Playwright config here uses: Debian's, never a downloaded one, with the flags
// this machine's closed network needs (no background connections).
export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
};

/** Settings both Playwright configs share: one worker (one app, one database), no retries. */
export const sharedConfig = {
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]] as [["list"]],
  outputDir: "test-results",
};

/** Browser settings both configs share. */
export const sharedUse = { screenshot: "only-on-failure" as const, trace: "retain-on-failure" as const, launchOptions: chromiumLaunch };
