import { nextClaimsKit } from "@/lib/claims-kit/next/server";
import { app } from "./auth.config";

// Auth.js, the guarded route handlers, auth() and the server helpers, the proxy: one call.
export const { handlers, auth, signIn, signOut, readToken, readServerData, sessionId, sessionActive, updateSession, getAccessToken, inspectCookie, requireRecentAuth, stepUpRoute, backchannelRoute, ssfRoute, proxy } = nextClaimsKit(app.kit, app.authConfig, app.next);
export const { kit, oauth } = app;
export type { AppKit } from "./auth.config";
