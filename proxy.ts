import { handlers } from "./auth";
import { kit, oauth, sessionJwt } from "./auth.config";
import { refreshingProxy } from "./lib/claims-kit/next/proxy";

/**
 * Before a page renders, refresh a due access token through Auth.js's session handler and hand the
 * new cookie to this very request, so Server Components never run a refresh they cannot persist.
 */
export const proxy = refreshingProxy({ kit, handler: handlers.GET, isDue: (token) => oauth.isDue(token), secret: process.env.AUTH_SECRET, decode: sessionJwt?.decode });

export const config = {
  matcher: ["/((?!api/auth|_next/static|_next/image|favicon.ico).*)"],
};
