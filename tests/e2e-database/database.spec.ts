// The reference app under Auth.js's database strategy, in Chromium: the cookie is Auth.js's opaque
// session token; claims, a tenant switch, an intent, sign-out everywhere and refresh under
// concurrency behave as under the JWT strategy.
import { expect, test, type Page } from "@playwright/test";
import { PROVIDER } from "../../playwright.database.config";
import { signIn, signedInBrowsers } from "../e2e/helpers";

const stats = async (page: Page) => (await (await page.request.get(`${PROVIDER}/__dev/stats`)).json()) as { refreshSuccess: number; refreshErrors: number; reuseDetected: number };

test("claims on the dashboard, a tenant switch, an intent: from the session row, not the cookie", async ({ page, context }) => {
  await signIn(page, "alice@example.com");
  const cookie = (await context.cookies()).find((c) => c.name === "authjs.session-token");
  expect(cookie?.value).toBeTruthy();
  expect(cookie!.value.startsWith("eyJ"), "an opaque session token, not a JWT").toBe(false);
  await page.goto("/dashboard");
  await expect(page.getByTestId("current-tenant")).toHaveText("Acme Corp");
  await expect(page.getByTestId("tenant-role")).toHaveText("admin");

  await page.getByTestId("tenant-switcher").selectOption({ label: "Globex" });
  await expect(page.getByTestId("tenant-switcher-result")).toHaveText("Switched to Globex: you are member there.");
  await page.reload();
  await expect(page.getByTestId("tenant-role")).toHaveText("member");

  await page.goto("/account");
  await page.getByLabel("New display name").fill("Alice D.");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("display-name-result")).toHaveText("Display name saved: Alice D..");
  await page.goto("/inspector");
  await expect(page.getByTestId("session-row-intro")).toContainText("database strategy");
  await expect(page.locator('[data-testid="session-row"] tr[data-claim="tid"], [data-testid="session-row"] tr[data-claim="tenantId"]')).toHaveCount(1);
  expect(await page.content()).not.toContain(cookie!.value);
});

test("sign out all other sessions ends the other browser's Session row", async ({ browser }) => {
  const { pages: [a, b], close } = await signedInBrowsers(browser, "dave@example.com", "dave@example.com");
  await a.goto("/sessions");
  await expect(a.locator('[data-testid="sessions"] tbody tr')).toHaveCount(2);
  a.once("dialog", (dialog) => void dialog.accept());
  await a.getByRole("button", { name: "Sign out all other sessions" }).click();
  await expect(a.getByTestId("revoke-others-result")).toHaveText("Signed out 1 other session.");
  await b.reload();
  await expect(b.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(await (await b.request.get("/api/auth/session")).json()).toBeNull();
  await a.reload();
  await expect(a.getByTestId("signed-in-as")).toHaveText("dave@example.com");
  await close();
});

test("a 3-second access token, three tabs at once after each expiry: refreshed, never twice with one token", async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  await signIn(tabs[0]!, "tabs+ttl3@example.com");
  const before = await stats(tabs[0]!);
  // Page loads until the provider has refreshed twice: two expiries, three tabs loading together.
  for (let round = 0; (await stats(tabs[0]!)).refreshSuccess < before.refreshSuccess + 2; round++) {
    expect(round, "bounded: two 3-second lifetimes should not need this many rounds").toBeLessThan(60);
    await Promise.all(tabs.map((t) => t.goto("/api-demo")));
    for (const t of tabs) await expect(t.getByTestId("userinfo-status")).toHaveText("200");
  }
  const after = await stats(tabs[0]!);
  expect(after.reuseDetected).toBe(before.reuseDetected);
  expect(after.refreshErrors).toBe(before.refreshErrors);
});
