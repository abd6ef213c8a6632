// Runs once when `next start` (or `next dev`) boots: the configuration, read lazily so that
// `next build` needs no secrets, is checked here; a missing or invalid value stops the server at
// start-up with an error naming the variable, instead of failing on a user's first request. Then
// the Shared Signals poll starts, when AUTH_SSF_POLL_URL is set, and the retention purge
// (AUTH_PURGE_EVERY minutes, AUTH_SESSION_RETENTION days).
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { app } = await import("./auth.config");
  app.check();
  app.startSsfPolling();
  app.startPurging();
}
