import { expect, type Page } from "@playwright/test";

/** Sign in through the OIDC provider's own login and consent pages, as a person would. */
export async function signIn(page: Page, login: string): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  // The provider asks for consent on a client's first grant only: wait for whichever comes first.
  await expect(consent.or(page.getByTestId("signed-in-as"))).toBeVisible();
  if (await consent.isVisible()) await consent.click();
  await expect(page.getByTestId("signed-in-as")).toBeVisible();
}
