import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("the token inspector shows the real cookie against the budget, per claim", async ({ page }) => {
  await signIn(page, "alice@example.com");
  // The first registry check after sign-in adds the cold-read hint (verifiedAt, log position) and
  // re-issues the cookie; the page measures the cookie its request carried, so read once first.
  expect((await page.request.get("/api/auth/session")).ok()).toBe(true);
  await page.goto("/inspector");
  await expect(page.getByTestId("budget-status")).toHaveText("within budget");
  await expect(page.getByTestId("cookie-chunks")).toHaveText("1");
  await expect(page.getByTestId("measured-vs-actual")).toHaveText("matches");
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === "authjs.session-token")!;
  await expect(page.getByTestId("cookie-bytes")).toHaveText(String(session.name.length + 1 + session.value.length));
  await expect(page.locator('[data-claim="tenantRole"] td').nth(1)).toHaveText("trole");
  await expect(page.locator('[data-claim="tenantRole"] .badge')).toHaveText("client");
  // The page never shows token values.
  expect(await page.content()).not.toContain(session.value.slice(0, 40));
});

test("a big provider profile: groups moved server-side, still one cookie", async ({ page }) => {
  await signIn(page, "heidi+big@example.com");
  await page.goto("/inspector");
  await expect(page.getByTestId("budget-actions")).toContainText("Moved to server-side data: groups");
  await expect(page.getByTestId("budget-status")).toHaveText("within budget");
  await expect(page.getByTestId("cookie-chunks")).toHaveText("1");
  const names = (await page.context().cookies()).map((c) => c.name).filter((n) => n.startsWith("authjs.session-token"));
  expect(names).toEqual(["authjs.session-token"]);
});
