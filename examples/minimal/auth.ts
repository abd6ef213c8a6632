import type { NextAuthConfig } from "next-auth";
import { nextClaimsKit } from "claims-kit/next/server";
import { kit, oauth } from "./kit";

// Nothing here throws when the environment is empty (`next build` in a clean container): Auth.js
// only needs the secret and the issuer when a request comes in.
export const config = {
  secret: process.env.AUTH_SECRET,
  trustHost: true,
  session: { strategy: "jwt" },
  providers: [
    {
      id: "oidc",
      name: "OpenID Connect",
      type: "oidc",
      issuer: process.env.AUTH_OIDC_ISSUER,
      clientId: process.env.AUTH_OIDC_ID,
      clientSecret: process.env.AUTH_OIDC_SECRET,
      // offline_access (a refresh token) is granted only with prompt=consent (OIDC Core 11).
      authorization: { params: { scope: "openid profile email offline_access", prompt: "consent" } },
    },
  ],
  callbacks: kit.callbacks,
  events: kit.events,
} satisfies NextAuthConfig;

/** Auth.js and the kit's helpers in one call: the guarded route handlers, auth(), the proxy. */
export const { handlers, signIn, signOut, auth, getAccessToken, proxy } = nextClaimsKit(kit, config, { refresh: oauth });
