import { expect, test, type Page } from "@playwright/test";
// The same sign-in a person does on the bundled provider as the reference app's e2e (this test runs
// on the root's Playwright, against the same provider).
import { forgeUpdate as forge, signIn } from "../../../tests/e2e/helpers";
import { PROVIDER_URL } from "../playwright.config";

type SessionJson = { user: { email?: string }; claims: Record<string, unknown>; update?: { intent?: string; code?: string } } | null;

/** The session as `useSession()` sees it (the browser context's cookies). */
async function readSession(page: Page): Promise<SessionJson> {
  const response = await page.request.get("/api/auth/session");
  expect(response.ok()).toBe(true);
  return (await response.json()) as SessionJson;
}


test("claims from auth(), a validated intent, a forged update refused", async ({ page }) => {
  await signIn(page, "alice@example.com");

  // Rendered on the server from auth(): the role from the fixed map, the nickname from the profile.
  await expect(page.getByTestId("signed-in-as")).toHaveText("alice@example.com");
  await expect(page.getByTestId("role")).toHaveText("staff");
  await expect(page.getByTestId("nickname")).toHaveText("alice");
  // oauthRefresh in cookie mode: the access token is in the encrypted cookie, readable on the
  // server, and never in the session the browser reads.
  await expect(page.getByTestId("access-token")).toHaveText("present (server only)");
  const initial = await readSession(page);
  expect(initial?.claims).toEqual({ role: "staff", nickname: "alice" });

  // The intent, from the client component: validated by its schema, applied on the server.
  const nickname = page.getByLabel("New nickname");
  const status = page.getByTestId("nickname-status");
  await nickname.fill("Ali 42");
  await page.getByRole("button", { name: "Save nickname" }).click();
  await expect(status).toHaveText("saved");
  await expect(page.getByTestId("nickname")).toHaveText("Ali 42");
  expect((await readSession(page))?.claims.nickname).toBe("Ali 42");

  // Input the schema refuses: the session stays as it was.
  await nickname.fill("   ");
  await page.getByRole("button", { name: "Save nickname" }).click();
  await expect(status).toHaveText("refused: invalid_input");
  expect((await readSession(page))?.claims.nickname).toBe("Ali 42");

  // A forged update() with raw claims is not an intent: refused, nothing changes.
  const forged = await forge<SessionJson>(page, { nickname: "x" });
  expect(forged?.update?.code).toBe("update_malformed");
  expect(forged?.claims.nickname).toBe("Ali 42");
  // Nor may an intent smuggle in another claim.
  const smuggled = await forge<SessionJson>(page, { intent: "setNickname", input: { nickname: "y", role: "user" } });
  expect(smuggled?.update?.code).toBe("invalid_input");
  expect((await readSession(page))?.claims).toEqual({ role: "staff", nickname: "Ali 42" });
  await page.reload();
  await expect(page.getByTestId("nickname")).toHaveText("Ali 42");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(await readSession(page)).toBeNull();
});

test("an address outside the staff map gets the role user", async ({ page }) => {
  await signIn(page, "bob@example.com");
  await expect(page.getByTestId("role")).toHaveText("user");
  await expect(page.getByTestId("nickname")).toHaveText("bob");
});

test("an identity that only claims the staff address (email_verified false) gets the role user", async ({ page }) => {
  // The dev provider's `+unverified` tag: another identity whose profile says alice@example.com, unverified.
  await signIn(page, "alice+unverified@example.com");
  await expect(page.getByTestId("signed-in-as")).toHaveText("alice@example.com");
  await expect(page.getByTestId("role")).toHaveText("user");
});

test("oauthRefresh (cookie mode) keeps a short-lived access token fresh, rotation included", async ({ page, request }) => {
  const stats = async () => (await (await request.get(`${PROVIDER_URL}/__dev/stats`)).json()) as { refreshSuccess: number; refreshErrors: number; reuseDetected: number };
  const before = await stats();
  // `+ttl6`: the dev provider issues this account 6-second access tokens (refreshed 3 s before expiry).
  await signIn(page, "carol+ttl6@example.com");
  await expect(page.getByTestId("access-token")).toHaveText("present (server only)");
  // Each /api/auth/session request runs jwt() and persists the refreshed cookie. Two refreshes:
  // the second one can only succeed with the rotated refresh token the first one stored.
  await expect
    .poll(async () => {
      const session = await readSession(page);
      expect(session?.claims.role).toBe("user");
      return (await stats()).refreshSuccess - before.refreshSuccess;
    }, { timeout: 30_000, intervals: [500] })
    .toBeGreaterThanOrEqual(2);
  const after = await stats();
  expect(after.refreshErrors - before.refreshErrors).toBe(0);
  expect(after.reuseDetected - before.reuseDetected).toBe(0);
  const session = await readSession(page);
  expect(session).not.toHaveProperty("errors");
  // The tokens stay out of the session JSON.
  expect(JSON.stringify(session)).not.toMatch(/access_token|refresh_token|"oauth"/);
  await page.reload();
  await expect(page.getByTestId("signed-in-as")).toHaveText("carol@example.com");
});
