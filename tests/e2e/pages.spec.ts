import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("every page has its own title, the site an icon, and an unknown address its own 404 page", async ({ page }) => {
  await signIn(page, "alice@example.com");
  const titles = new Map<string, string>();
  for (const path of ["/", "/dashboard", "/invoices", "/account", "/sessions", "/inspector", "/api-demo", "/admin"]) {
    await page.goto(path);
    await expect(page.getByTestId("signed-in-as")).toBeVisible();
    titles.set(path, await page.title());
  }
  expect(new Set(titles.values()).size, JSON.stringify([...titles])).toBe(titles.size);
  expect(titles.get("/invoices")).toBe("Invoices · Claims kit");
  await expect(page.locator('link[rel="icon"]')).toHaveCount(1);

  const missing = await page.goto("/no-such-page");
  expect(missing?.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toBeVisible();
  expect(await page.title()).toBe("Not found · Claims kit");
});
