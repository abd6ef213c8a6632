// Fail fast when `next start` boots without its configuration, instead of on the first request.
// Skipped while `next build` runs: an image is built without secrets.
const REQUIRED = ["AUTH_SECRET", "DATABASE_URL", "AUTH_OIDC_ISSUER", "AUTH_OIDC_ID"] as const;

export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs" || process.env.NEXT_PHASE === "phase-production-build") return;
  const missing = REQUIRED.filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`${missing.join(", ")} must be set (see README.md)`);
}
