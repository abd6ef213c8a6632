// The kit reads no environment variable (its README promises it; #24 item 5): everything it needs
// comes in as options or from the Auth.js config. Here process.env is replaced by an empty object
// that records every read made from a kit file, while a whole flow runs: compile, sign-in, an
// intent, a server update, reads, the size budget, cookie-mode OAuth refresh, the session-cookie
// codec, cookie naming, the route guard and the session read without a CSRF token.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { z } from "zod";
import { appClaims, claim, claimsKit, is, oauthRefresh, roles, sizeBudget, tenant } from "@/lib/claims-kit";
import { memorySessionRegistry, memoryServerDataStore } from "@/lib/claims-kit/plugin";
import { sessionCodec } from "@/lib/claims-kit/codec";
import { sessionCookieFor } from "@/lib/claims-kit/cookie/session-cookie";
import { guardAuthRequest } from "@/lib/claims-kit/next/internal/route-guard";
import { readSessionResponse } from "@/lib/claims-kit/next/internal/session-reads";
import { internalsOf } from "@/lib/claims-kit/engine/kit";
import { jwt, signInParams } from "../fixtures";

const KIT = `${process.cwd()}/lib/claims-kit/`;
const reads: string[] = [];
const saved = process.env;

before(() => {
  // Empty, and every read from a kit file is recorded with what it asked for.
  const empty: Record<string, string | undefined> = {};
  process.env = new Proxy(empty, {
    get(target, name) {
      const caller = new Error().stack?.split("\n").slice(2).find((line) => !line.includes("node:"));
      if (caller?.includes(KIT)) reads.push(`${String(name)} ${caller.trim()}`);
      return Reflect.get(target, name);
    },
  }) as NodeJS.ProcessEnv;
});
after(() => {
  process.env = saved;
});

test("a whole flow through the kit reads nothing from process.env", async () => {
  const fetcher = (async () => Response.json({ access_token: "at-2", token_type: "bearer", expires_in: 3600, refresh_token: "rt-2" })) as unknown as typeof fetch;
  const kit = claimsKit({
    sessions: memorySessionRegistry(),
    serverStore: memoryServerDataStore(),
    freshness: { maxAge: 300 },
    plugins: [
      roles({ roles: ["user", "staff"], load: () => "staff" }),
      tenant({ roles: ["admin", "member"], defaultTenant: () => ({ tenantId: "t1", role: "admin" }), membership: (_u, t) => (t === "t1" || t === "t2" ? { role: "member" } : null) }),
      appClaims({
        id: "profile",
        claims: { nickname: claim.client<string>(is.stringMax(40)), notes: claim.server<string>() },
        load: () => ({ nickname: "n", notes: "kept server-side" }),
        intents: { setNickname: { input: z.object({ nickname: z.string() }), handle: ({ nickname }) => ({ nickname }) } },
      }),
      oauthRefresh({ provider: "oidc", mode: "cookie", tokenEndpoint: "https://idp.example/token", clientId: "app", clientSecret: "s", fetch: fetcher }),
    ] as const,
    budget: sizeBudget({ maxBytes: 4000 }),
  });
  const signedIn = await jwt(kit, { ...signInParams(), account: { provider: "oidc", type: "oidc", providerAccountId: "p1", access_token: "at-1", refresh_token: "rt-1", expires_at: 1 } });
  const switched = await jwt(kit, { token: signedIn, trigger: "update", session: { intent: "switchTenant", input: { tenantId: "t2" } } });
  const renamed = await jwt(kit, { token: switched, trigger: "update", session: { intent: "setNickname", input: { nickname: "x" } } });
  const staged = internalsOf(kit).stageServerUpdate({ nickname: "y" }, renamed);
  const updated = await jwt(kit, { token: renamed, trigger: "update", session: staged });
  const read = await jwt(kit, { token: updated });
  assert.equal(read.tenantId, "t2");
  assert.equal(read.nickname, "y");
  assert.equal((read.oauth as { at?: string }).at, "at-2", "refreshed in cookie mode");
  const session = await kit.callbacks.session({ session: { user: {}, expires: "" } as never, token: read });
  assert.equal((session as unknown as { claims: { nickname: string } }).claims.nickname, "y");

  const codec = sessionCodec();
  const secret = "no-env-test-secret-0123456789abcdef";
  const cookie = await codec.encode({ token: read, secret, salt: "authjs.session-token" });
  assert.equal((await codec.decode({ token: cookie, secret, salt: "authjs.session-token" }))?.nickname, "y");

  const request = new Request("http://localhost/api/auth/session", { headers: { cookie: `authjs.session-token=${cookie}`, "x-forwarded-proto": "http" } });
  assert.equal(sessionCookieFor(request).name, "authjs.session-token");
  assert.equal(guardAuthRequest(request).removed.length, 0, "a session read keeps its cookie");
  const config = { secret, trustHost: true, basePath: "/api/auth", providers: [], session: { strategy: "jwt" as const }, jwt: codec, callbacks: kit.callbacks };
  const response = await readSessionResponse(request, config);
  assert.equal(response.status, 200);
  assert.equal(((await response.json()) as { claims?: { nickname?: string } }).claims?.nickname, "y");

  assert.deepEqual(reads, [], "the kit read the environment");
});
