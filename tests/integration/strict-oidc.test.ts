// A strict OpenID provider (the bundled one is as strict as oidc-provider's defaults): a refresh
// token only for offline_access, which it grants only with prompt=consent. Here the app is
// configured NOT to ask for consent, as a developer might by mistake: the kit must say so.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { fakeClock, startHarness, type Harness } from "./harness";

const clock = fakeClock();
let h: Harness;
const warnings: string[] = [];
const originalWarn = console.warn;
before(async () => {
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  // No prompt=consent: offline_access is not granted.
  h = await startHarness({ clock: clock.now, env: { AUTH_OIDC_PROMPT: "" } });
});
after(async () => {
  console.warn = originalWarn;
  await h.close();
});

describe("a strict provider and no prompt=consent", () => {
  test("no refresh token: one actionable warning, no_refresh_token while the token lasts, sign in again at expiry", async () => {
    const b = h.browser();
    await b.signIn("nora+ttl60@example.com");
    const account = await h.prisma.account.findFirstOrThrow({ where: { providerAccountId: { startsWith: "nora" } } });
    assert.equal(account.refresh_token, null, "the strict provider issued no refresh token");
    assert.equal((await b.session<AppSession>())?.errors?.oauth, "no_refresh_token");
    const hints = warnings.filter((w) => w.includes("refresh is configured but"));
    assert.equal(hints.length, 1);
    assert.match(hints[0]!, /offline_access together with prompt=consent/);

    const second = h.browser();
    await second.signIn("nora+ttl60@example.com");
    assert.equal(warnings.filter((w) => w.includes("refresh is configured but")).length, 1, "said once per process");

    h.provider.reset();
    clock.advance(120);
    const expired = await b.session<AppSession>();
    assert.ok(expired, "still signed in: the client's re-auth hook asks the user to sign in again");
    assert.equal(expired.errors?.oauth, "reauth_required");
    assert.equal(h.oauth.isDue(await b.token()), false, "no refresh attempts after that");
    assert.equal(h.provider.stats().refreshGrants, 0);
  });
});

describe("authorization parameters (auth.config.ts)", () => {
  test("offline_access asks for consent by default; AUTH_OIDC_PROMPT and AUTH_OIDC_AUTH_PARAMS override", async () => {
    const { authorizationParams } = await import("../../auth.config");
    const { readEnv } = await import("../../app/_lib/env");
    const params = (given: Record<string, string>) => authorizationParams(readEnv(given));
    assert.deepEqual(params({}), { scope: "openid profile email offline_access", prompt: "consent" });
    assert.deepEqual(params({ AUTH_OIDC_SCOPE: "openid email" }), { scope: "openid email" });
    assert.deepEqual(params({ AUTH_OIDC_PROMPT: "" }), { scope: "openid profile email offline_access" });
    assert.deepEqual(params({ AUTH_OIDC_PROMPT: "select_account consent", AUTH_OIDC_AUTH_PARAMS: "access_type=offline&hd=example.com" }), {
      scope: "openid profile email offline_access",
      prompt: "select_account consent",
      access_type: "offline",
      hd: "example.com",
    });
  });
});
