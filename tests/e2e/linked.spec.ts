import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

// Issue #13, item 5: link a second provider from the Provider API page; both token sets are listed.
test("a signed-in user links a second provider and the Provider API page shows both token sets", async ({ page }) => {
  await signIn(page, "linker@example.com");
  await page.goto("/api-demo");
  await expect(page.getByTestId("linked-oidc")).toBeVisible();
  await expect(page.getByTestId("linked-work")).toHaveCount(0);

  await page.getByTestId("link-work").click();
  // The provider still knows the user (one provider session): it asks for consent to the second client only.
  const login = page.locator('input[name="login"]');
  const consent = page.getByRole("button", { name: "Continue" });
  await expect(login.or(consent)).toBeVisible();
  if (await login.isVisible()) {
    await login.fill("linker@example.com");
    await page.locator('input[name="password"]').fill("any-password");
    await page.getByRole("button", { name: "Sign-in" }).click();
  }
  await consent.click();

  await expect(page).toHaveURL(/\/api-demo$/);
  await expect(page.getByTestId("linked-work")).toBeVisible();
  await expect(page.getByTestId("linked-oidc")).toBeVisible();
  await expect(page.getByTestId("link-work")).toHaveCount(0);
  // Still the same user, still signed in; no token value on the page.
  await expect(page.getByTestId("signed-in-as")).toBeVisible();
  expect(await page.content()).not.toMatch(/refresh_token|access_token/);
});
