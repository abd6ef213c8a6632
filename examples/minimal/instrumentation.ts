// Fail fast when `next start` boots with a broken OAuth configuration (a missing issuer or client
// id), instead of on the first token refresh. Skipped while `next build` runs: no secrets there.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const { oauth } = await import("./kit");
  oauth.check();
}
