// The claims, composed from the toolkit's public entries only (the packed `claims-kit` package).
// Under Auth.js's database strategy the cookie is an opaque session token: the claims live in the
// kit's session registry (UserSession.state), next to Auth.js's Session row, never in the cookie.
import { appClaims, claim, claimsKit, is, permissions, roles } from "claims-kit";
import { prismaSessionRegistry } from "claims-kit/prisma";
import { z } from "zod";
import { access } from "./access";
import { prisma } from "./db";

const userRow = (id: string) => prisma.user.findUnique({ where: { id }, select: { role: true, nickname: true } });

export const kit = claimsKit({
  // Required under the database strategy: the kit keeps each session's claims with its registry
  // row (the tables its shipped migrations create), and revocation ends the Auth.js row too.
  sessions: prismaSessionRegistry(prisma),
  plugins: [
    // session.claims.role: "user" | "staff", read from the User row at sign-in (and on reloads).
    roles({ roles: ["user", "staff"], load: async (userId) => (await userRow(userId))?.role }),
    // session.claims.permissions: the role's, as a compact claim; access.can(session, "notes:write").
    permissions({ set: access, from: ["role"] }),
    appClaims({
      id: "profile",
      claims: { nickname: claim.client<string>(is.stringMax(40)) },
      load: async ({ userId }) => (userId ? { nickname: (await userRow(userId))?.nickname ?? null } : undefined),
      intents: {
        // The client sends { nickname }; the schema validates it on the server and types `handle`.
        setNickname: {
          input: z.object({ nickname: z.string().trim().min(1, "1-40 characters").max(40, "1-40 characters") }).strict(),
          handle: ({ nickname }) => ({ nickname }),
          // Saved only once the kit has accepted the new claim: a refused value never reaches the row.
          commit: async ({ nickname }, { userId }) => {
            await prisma.user.update({ where: { id: userId! }, data: { nickname } });
          },
        },
      },
    }),
  ],
});

/** The kit's type, for `useClaims<AppKit>()` and `SessionOf<AppKit>`. */
export type AppKit = typeof kit;
