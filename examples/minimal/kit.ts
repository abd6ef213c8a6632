// The claims, composed from the toolkit's public entry only (the packed `claims-kit` package).
// No database: the role comes from a fixed map, the nickname lives in the session cookie, and the
// OAuth tokens ride in the cookie too (oauthRefresh's "cookie" mode).
import { appClaims, claim, claimsKit, is, oauthRefresh, roles } from "claims-kit";
import { z } from "zod";
import { roleOf } from "./staff";

/**
 * The provider's access token, refreshed ahead of expiry. The options are a function: they are
 * read from the environment on first use, so `next build` needs no issuer (see instrumentation.ts).
 */
export const oauth = oauthRefresh(() => ({
  provider: "oidc",
  mode: "cookie",
  issuer: process.env.AUTH_OIDC_ISSUER,
  clientId: process.env.AUTH_OIDC_ID ?? "",
  clientSecret: process.env.AUTH_OIDC_SECRET,
}));

export const kit = claimsKit({
  issuer: "claims-kit-minimal-example",
  plugins: [
    // session.claims.role: "user" | "staff", derived on sign-in (and on refreshClaims): staff only
    // for an address the provider has verified (staff.ts), never for one a profile merely claims.
    roles({ roles: ["user", "staff"], load: (_userId, ctx) => roleOf(ctx) }),
    appClaims({
      id: "profile",
      claims: { nickname: claim.client<string>(is.stringMax(40)) },
      // On sign-in: the provider's preferred_username. Afterwards only the intent changes it.
      load: ({ reason, profile }) =>
        reason === "signIn" ? { nickname: typeof profile?.preferred_username === "string" ? profile.preferred_username.slice(0, 40) : null } : undefined,
      intents: {
        // The client sends { nickname }; the schema validates it on the server and types `handle`.
        setNickname: {
          input: z.object({ nickname: z.string().trim().min(1, "1-40 characters").max(40, "1-40 characters") }).strict(),
          handle: ({ nickname }) => ({ nickname }),
        },
      },
    }),
    oauth,
  ],
});

/** The kit's type, for `useClaims<AppKit>()` and `SessionOf<AppKit>`. */
export type AppKit = typeof kit;
