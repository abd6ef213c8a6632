import { PrismaAdapter } from "@auth/prisma-adapter";
import type { NextAuthConfig } from "next-auth";
import { nextClaimsKit } from "claims-kit/next/server";
import { prisma } from "./db";
import { kit } from "./kit";

// Nothing here throws when the environment is empty (`next build` in a clean container): Auth.js
// only needs the secret, the database and the issuer when a request comes in.
export const config = {
  adapter: PrismaAdapter(prisma),
  // A Session row per sign-in; the cookie holds only its random token.
  session: { strategy: "database" },
  secret: process.env.AUTH_SECRET,
  trustHost: true,
  // Any OpenID Connect provider, from the environment.
  providers: [
    {
      id: "oidc",
      name: "OpenID Connect",
      type: "oidc",
      issuer: process.env.AUTH_OIDC_ISSUER,
      clientId: process.env.AUTH_OIDC_ID,
      clientSecret: process.env.AUTH_OIDC_SECRET,
      authorization: { params: { scope: "openid profile email" } },
    },
  ],
  callbacks: kit.callbacks,
  events: kit.events,
} satisfies NextAuthConfig;

/**
 * Auth.js and the kit's helpers in one call. Under the database strategy nextClaimsKit() wraps the
 * adapter (kit.adapter()) so the kit learns of each Session row it creates.
 */
export const { handlers, signIn, signOut, auth } = nextClaimsKit(kit, config);
