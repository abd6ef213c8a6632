// The plain Auth.js recipe the bench compares the reference app with, written as Auth.js's guides
// write it ("Refresh token rotation", JWT strategy; "Extending the session"): no database, the
// provider's tokens kept in the JWT, hand-written jwt() and session() callbacks, Auth.js's own
// codec. Same next, same next-auth, the same OIDC provider settings as the reference app.
// Plain JavaScript on purpose: the root tsconfig type-checks every .ts file in the repository, and
// a second Next app's generated route types would collide with the reference app's.
/* global process, fetch, URLSearchParams, console -- server code: Node's globals (the repository's lint config has none for .js) */
import NextAuth from "next-auth";

export const { handlers, auth, signIn, signOut } = NextAuth({
  providers: [
    {
      id: "oidc",
      name: "OpenID Connect",
      type: "oidc",
      issuer: process.env.AUTH_OIDC_ISSUER,
      clientId: process.env.AUTH_OIDC_ID,
      clientSecret: process.env.AUTH_OIDC_SECRET,
      // As the reference app asks: a refresh token needs offline_access, granted with consent.
      authorization: { params: { scope: "openid profile email offline_access", prompt: "consent" } },
    },
  ],
  callbacks: {
    async jwt({ token, account, profile }) {
      if (account) {
        // First sign-in: save the provider's tokens and the profile's extras in the JWT.
        return {
          ...token,
          access_token: account.access_token,
          expires_at: account.expires_at,
          refresh_token: account.refresh_token,
          groups: profile?.groups ?? [],
        };
      }
      if (Date.now() < token.expires_at * 1000) {
        // The access token has not expired yet.
        return token;
      }
      // The access token has expired: refresh it.
      if (!token.refresh_token) throw new TypeError("Missing refresh_token");
      try {
        const response = await fetch(`${process.env.AUTH_OIDC_ISSUER}/token`, {
          method: "POST",
          body: new URLSearchParams({
            client_id: process.env.AUTH_OIDC_ID,
            client_secret: process.env.AUTH_OIDC_SECRET,
            grant_type: "refresh_token",
            refresh_token: token.refresh_token,
          }),
        });
        const tokensOrError = await response.json();
        if (!response.ok) throw tokensOrError;
        return {
          ...token,
          access_token: tokensOrError.access_token,
          expires_at: Math.floor(Date.now() / 1000 + tokensOrError.expires_in),
          // Some providers only issue refresh tokens once, so preserve if we did not get a new one.
          refresh_token: tokensOrError.refresh_token ?? token.refresh_token,
        };
      } catch (error) {
        console.error("Error refreshing access_token", error?.error ?? error);
        return { ...token, error: "RefreshTokenError" };
      }
    },
    async session({ session, token }) {
      session.user.id = token.sub;
      session.user.groups = token.groups;
      session.error = token.error;
      return session;
    },
  },
});
