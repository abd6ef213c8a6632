// Type-level tests: `npm run typecheck` (part of `npm test`) compiles this file. Every
// `@ts-expect-error` line must be an error; if a change makes it compile, the typecheck fails.
import { z } from "zod";
import type { AppIntents, AppSession, AppToken } from "@/auth.config";
import { appClaims, claim, claimsKit, is, permissions, type PermissionSet, type SessionOf, type TokenOf } from "@/lib/claims-kit";
import type { useClaims } from "@/lib/claims-kit/next/client";

const kit = claimsKit({
  plugins: [
    appClaims({
      id: "billing",
      claims: { tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])), apiKey: claim.token<string>(), history: claim.server<number[]>() },
      load: () => ({ tier: "free" as const }),
      intents: { setTier: { input: z.object({ tier: z.enum(["free", "pro"]) }), handle: (i: { tier: "free" | "pro" }) => ({ tier: i.tier }) } },
    }),
  ],
  serverStore: { read: async () => null, write: async () => {}, remove: async () => {} },
});

declare const session: SessionOf<typeof kit>;
const tier: "free" | "pro" | undefined = session.claims.tier;
// @ts-expect-error a misspelt claim name does not exist
void session.claims.teir;
// @ts-expect-error a claim has its declared type
const tierAsNumber: number | undefined = session.claims.tier;
// @ts-expect-error token-only claims are not in the session
void session.claims.apiKey;
// @ts-expect-error server-side claims are not in the session
void session.claims.history;

declare const token: TokenOf<typeof kit>;
const apiKey: string | undefined = token.apiKey;
// @ts-expect-error server-side claims are not in the token either
void token.history;

// A plugin may only return its own claims, with their types.
appClaims({
  id: "wrong",
  claims: { count: claim.client<number>() },
  // @ts-expect-error a string for a number claim
  load: () => ({ count: "many" }),
});

// The reference app's own types, inferred from auth.config.ts.
declare const app: AppSession;
const tenantRole: "owner" | "admin" | "member" | "viewer" | undefined = app.claims.tenantRole;
const credits: number | undefined = app.claims.credits;
const userId: string = app.user.id;
// @ts-expect-error tenants are server-side data
void app.claims.tenants;
declare const appToken: AppToken;
const sub: string | undefined = appToken.sub;

// Intents are checked at compile time on the client.
type Run = ReturnType<typeof useClaims<AppSession, AppIntents>>["run"];
declare const run: Run;
void run("switchTenant", { tenantId: "t1" });
void run("refreshClaims");
// @ts-expect-error wrong input shape
void run("switchTenant", { tenant: "t1" });
// @ts-expect-error input is required
void run("switchTenant");
// @ts-expect-error unknown intent
void run("becomeAdmin", {});

// Grants name their scope: the removed tenant-blind `grants` option no longer compiles.
const grantOptions = (set: PermissionSet<"a:read", "r">) => [
  permissions({ set, from: ["role"], tenantGrants: { claim: "tenantId", load: (_userId: string, _tenantId: string) => ["a:read"] }, globalGrants: () => [] }),
  // @ts-expect-error removed: use tenantGrants or globalGrants
  permissions({ set, from: ["role"], grants: () => ["a:read"] }),
];

export const used = [kit, tier, tierAsNumber, apiKey, tenantRole, credits, userId, sub, grantOptions];
