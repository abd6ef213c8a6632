import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("sign in through the OIDC provider, see the dashboard, sign out", async ({ page }) => {
  const hosts = new Set<string>();
  page.on("request", (request) => hosts.add(new URL(request.url()).hostname));
  await signIn(page, "alice@example.com");
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText("alice@example.com");
  await expect(page.getByTestId("current-tenant")).toHaveText("Acme Corp");
  await expect(page.getByTestId("tenant-role")).toHaveText("admin");

  // Server and client see the same session, field by field.
  await expect(page.getByTestId("compare-summary")).toHaveText("Server and browser agree on every field.");
  await expect(page.locator('[data-testid="session-compare"] tr[data-same="no"]')).toHaveCount(0);
  const both = (field: string) => page.locator(`[data-field="${field}"] [data-testid="server-value"], [data-field="${field}"] [data-testid="client-value"]`);
  for (const [field, value] of [["claims.role", "staff"], ["claims.tenantRole", "admin"], ["claims.tier", "pro"], ["claims.credits", "120"], ["user.email", "alice@example.com"]] as const) {
    await expect(both(field)).toHaveText([value, value]);
  }
  // Bookkeeping (the last update's verdict and nonce) is not shown as if it were part of the session.
  await expect(page.locator('[data-field="update"]')).toHaveCount(0);

  // Each claim is listed with its visibility; server-side data is not in the session.
  await expect(page.locator('[data-claim="tenants"] .badge')).toHaveText("server");
  await expect(page.locator('[data-claim="role"] .badge')).toHaveText("client");
  await expect(page.locator('[data-field="claims.tenants"]')).toHaveCount(0);
  await expect(page.locator('[data-claim="tenants"]')).toContainText("Globex");
  // Times as dates.
  await expect(page.locator('[data-claim="exp"] [data-testid="claim-value"]')).toContainText(/\d{4}, \d\d:\d\d UTC \(in 30 days\)/);

  // Nothing but this machine was asked for anything: no fonts, no CDNs.
  expect([...hosts].sort()).toEqual(["127.0.0.1", "localhost"]);

  // Signing out ends the provider's session too (RP-Initiated Logout): it asks, then sends us back.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  const session = await page.request.get("/api/auth/session");
  expect(await session.json()).toBeNull();
});

test("after sign-out the next sign-in asks who you are: switching users works", async ({ page }) => {
  await signIn(page, "carol@example.com");
  await expect(page.getByTestId("signed-in-as")).toHaveText("carol@example.com");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  // The provider's session is gone: its login form comes back instead of carol being signed in again.
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator('input[name="login"]')).toBeVisible();
  await page.locator('input[name="login"]').fill("dave@example.com");
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByTestId("signed-in-as")).toHaveText("dave@example.com");
});

test("an unverified identity whose address differs from a user's only in case is refused, not linked", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator('input[name="login"]').fill("Alice+unverified@example.com");
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  await expect(consent.or(page.getByText(/access denied|AccessDenied/i).first())).toBeVisible();
  if (await consent.isVisible()) await consent.click();
  await expect(page).toHaveURL(/error=AccessDenied/);
  const session = await page.request.get("/api/auth/session");
  expect(await session.json()).toBeNull();
  expect((await page.request.get("/admin", { maxRedirects: 0 })).status()).not.toBe(200);
});

test("a deep link while signed out is kept through sign-in (same-origin only)", async ({ page, browser }) => {
  await page.goto("/invoices");
  await expect(page).toHaveURL(/\/\?callbackUrl=%2Finvoices$/);
  await expect(page.getByTestId("sign-in-to-continue")).toContainText("/invoices");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator('input[name="login"]').fill("bob@example.com");
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/invoices$/);
  await expect(page.getByTestId("signed-in-as")).toHaveText("bob@example.com");

  // Another origin is never a place to return to (a fresh browser: no responses still in flight
  // from the first one can bring its session back).
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto("/?callbackUrl=https%3A%2F%2Fevil.example%2F");
  await expect(other.getByTestId("sign-in-to-continue")).toHaveCount(0);
  await other.getByRole("button", { name: "Sign in" }).click();
  await other.locator('input[name="login"]').fill("bob@example.com");
  await other.locator('input[name="password"]').fill("any-password");
  await other.getByRole("button", { name: "Sign-in" }).click();
  await other.getByRole("button", { name: "Continue" }).click();
  await expect(other).toHaveURL(/localhost:\d+\/dashboard$/);
  await fresh.close();
});
