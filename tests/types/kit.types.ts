// Type-level tests: `npm run typecheck` (part of `npm test`) compiles this file. Every
// `@ts-expect-error` line must be an error; if a change makes it compile, the typecheck fails.
import { z } from "zod";
import type { AppKit } from "@/auth.config";
import { appClaims, claim, claimsKit, is, permissions, sizeBudget, type IntentsOfKit, type SessionOf, type TokenOf } from "@/lib/claims-kit";
import { type PermissionSet } from "@/lib/claims-kit/access";
import type { useClaims } from "@/lib/claims-kit/next/client";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof: T) => _proof;

const kit = claimsKit({
  plugins: [
    appClaims({
      id: "billing",
      claims: { tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])), apiKey: claim.token<string>(), history: claim.server<number[]>() },
      load: () => ({ tier: "free" as const }),
      intents: {
        // No annotation: the handler's input is the schema's output (trimmed string, enum).
        setTier: {
          input: z.object({ tier: z.enum(["free", "pro"]), note: z.string().trim().optional() }),
          handle: (input) => {
            const tier: "free" | "pro" = input.tier;
            const note: string | undefined = input.note;
            void note;
            return { tier };
          },
          commit: (input) => void (input.tier satisfies "free" | "pro"),
        },
        // Input and output types differ: the client sends a string, the handler gets a number.
        setCount: {
          input: z.object({ count: z.string().transform(Number) }),
          handle: (input) => {
            const count: number = input.count;
            void count;
            return undefined;
          },
        },
      },
    }),
  ],
  serverStore: { read: async () => null, write: async () => {}, remove: async () => {} },
});

// IntentsOf is exactly each schema's input type (plus the built-in refreshClaims).
type Intents = IntentsOfKit<typeof kit>;
expectType<Equal<Intents["setTier"], { tier: "free" | "pro"; note?: string | undefined }>>(true);
expectType<Equal<Intents["setCount"], { count: string }>>(true);
expectType<Equal<Intents["refreshClaims"], undefined>>(true);

// A handler annotation that contradicts its schema does not compile (and so cannot widen IntentsOf).
appClaims({
  id: "contradiction",
  claims: { n: claim.client<string>() },
  intents: {
    setN: {
      input: z.object({ n: z.string() }),
      // @ts-expect-error the schema's output is { n: string }, not { n: number }
      handle: (input: { n: number }) => ({ n: String(input.n) }),
    },
  },
});

// A handler may only return its plugin's claims, with their types.
appClaims({
  id: "wrong-return",
  claims: { n: claim.client<number>() },
  intents: {
    // @ts-expect-error a string for a number claim
    setN: { input: z.object({ n: z.string() }), handle: (input) => ({ n: input.n }) },
  },
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

// The size budget is a kit option, not a plugin.
// @ts-expect-error sizeBudget() in the plugin list
claimsKit({ plugins: [sizeBudget()] });
claimsKit({ plugins: [], budget: sizeBudget() });

// The reference app's own types, inferred from auth.config.ts: one way to read them.
declare const app: SessionOf<AppKit>;
const tenantRole: "owner" | "admin" | "member" | "viewer" | undefined = app.claims.tenantRole;
const credits: number | undefined = app.claims.credits;
const userId: string = app.user.id;
// @ts-expect-error tenants are server-side data
void app.claims.tenants;
declare const appToken: TokenOf<AppKit>;
const sub: string | undefined = appToken.sub;

// session.errors is typed per plugin id with each plugin's own codes and the kit's step codes.
const tenantError: "not_a_member" | "load_failed" | "plugin_failed" | "claim_invalid" | "claim_not_owned" | "claim_protected" | "claim_sensitive" | undefined = app.errors?.tenant;
const oauthError: string | undefined = app.errors?.oauth;
// @ts-expect-error not_a_member belongs to the tenant plugin, not to roles
const rolesError: "not_a_member" | undefined = app.errors?.roles;
// @ts-expect-error no plugin has this id
void app.errors?.billingg;

// Intents are checked at compile time on the client, from the kit's type alone.
type Run = ReturnType<typeof useClaims<AppKit>>["run"];
declare const run: Run;
void run("switchTenant", { tenantId: "t1" });
void run("setDisplayName", { displayName: "Ada" });
void run("refreshClaims");
// @ts-expect-error wrong input shape
void run("switchTenant", { tenant: "t1" });
// @ts-expect-error input is required
void run("switchTenant");
// @ts-expect-error unknown intent
void run("becomeAdmin", {});
// @ts-expect-error the display name is a string
void run("setDisplayName", { displayName: 42 });

// Grants name their scope: the removed tenant-blind `grants` option no longer compiles.
const grantOptions = (set: PermissionSet<"a:read", "r">) => [
  permissions({ set, from: ["role"], tenantGrants: { claim: "tenantId", load: (_userId: string, _tenantId: string) => ["a:read"] }, globalGrants: () => [] }),
  // @ts-expect-error removed: use tenantGrants or globalGrants
  permissions({ set, from: ["role"], grants: () => ["a:read"] }),
];

export const used = [kit, tier, tierAsNumber, apiKey, tenantRole, credits, userId, sub, grantOptions, tenantError, oauthError, rolesError];
