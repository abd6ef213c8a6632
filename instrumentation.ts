// Runs once when `next start` (or `next dev`) boots: configuration read lazily (so that `next build`
// needs no secrets) is checked here, and a missing or invalid option stops the server at start-up
// with an error naming it, instead of failing on a user's first request.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const missing = ["AUTH_SECRET", "DATABASE_URL", "AUTH_OIDC_ISSUER", "AUTH_OIDC_ID"].filter((name) => !process.env[name]);
  if (missing.length > 0) throw new Error(`configuration: ${missing.join(", ")} must be set (see README, Configuration)`);
  const { checkBackchannel, oauth } = await import("./auth.config");
  oauth.check();
  checkBackchannel();
}
