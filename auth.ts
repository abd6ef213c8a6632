import NextAuth from "next-auth";
import { authConfig, kit } from "./auth.config";
import { typedAuth } from "@/lib/claims-kit/next/server";

const nextAuth = NextAuth(authConfig);

export const { handlers, signIn, signOut, unstable_update } = nextAuth;
/** `auth()` with the kit's typed session (claims inferred from the plugin list in auth.config.ts). */
export const auth = typedAuth(kit, nextAuth.auth);
/** The untyped original, for the proxy and route wrappers. */
export const rawAuth = nextAuth.auth;
export { kit };
export type { AppSession, AppIntents, AppToken } from "./auth.config";
