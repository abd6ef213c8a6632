import NextAuth from "next-auth";
import { authConfig, kit, sessionJwt } from "./auth.config";
import { nextHelpers } from "@/lib/claims-kit/next/server";

const nextAuth = NextAuth(authConfig);

export const { handlers, signIn, signOut } = nextAuth;
/**
 * `auth()` typed with the kit's session, and the kit's server helpers, bound to this NextAuth()
 * and the session cookie's secret (the default cookie name: auth.config.ts does not rename it).
 */
export const { auth, readToken, readServerData, sessionId, sessionActive, updateSession, getAccessToken, inspectCookie, requireRecentAuth, stepUpRoute } = nextHelpers(kit, {
  auth: nextAuth.auth,
  // Session reads skip the CSRF token Auth.js mints before every action (auth() only reads).
  config: authConfig,
  update: nextAuth.unstable_update,
  secret: process.env.AUTH_SECRET,
  decode: sessionJwt?.decode,
  // Step-up (requireRecentAuth): sign in again at the provider with max_age / acr_values.
  signIn: nextAuth.signIn,
  stepUp: { provider: "oidc" },
});
export { kit };
export type { AppKit } from "./auth.config";
