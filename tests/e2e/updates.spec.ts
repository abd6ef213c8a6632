import { expect, test } from "@playwright/test";
import { forgeUpdate, signIn } from "./helpers";

test("forged update() calls from the browser console are refused and change nothing", async ({ page }) => {
  await signIn(page, "bob@example.com");
  const before = await forgeUpdate(page, { intent: "refreshClaims" });
  expect(before?.update?.code).toBeUndefined();

  const direct = await forgeUpdate(page, { tenantRole: "owner", permissions: "x", role: "staff" });
  expect(direct?.update?.code).toBe("update_malformed");
  expect(direct?.claims).toEqual(before?.claims);

  const foreign = await forgeUpdate(page, { intent: "switchTenant", input: { tenantId: "tenant-of-another-company" } });
  expect(foreign?.update?.code).toBe("not_a_member");
  expect(foreign?.claims).toEqual(before?.claims);

  const server = await forgeUpdate(page, { intent: "$server", nonce: "f".repeat(32) });
  expect(server?.update?.code).toBe("forbidden");

  const credits = await forgeUpdate(page, { intent: "setCredits", input: { credits: 1_000_000 } });
  expect(credits?.update?.code).toBe("unknown_intent");
  expect(credits?.claims).toEqual(before?.claims);

  await page.goto("/dashboard");
  await expect(page.getByTestId("tenant-role")).toHaveText("member");
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
});

test("display name, tier upgrade and credits on the account page", async ({ page }) => {
  await signIn(page, "carol@example.com");
  await page.goto("/account");
  await expect(page.getByTestId("tier")).toHaveText("free");

  await page.getByLabel("New display name").fill("  Caroline ");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("display-name-result")).toHaveText("Display name saved: Caroline.");
  await expect(page.getByTestId("display-name")).toHaveText("Caroline");

  await page.getByLabel("New display name").fill("   ");
  await page.getByRole("button", { name: "Save" }).click();
  // Refused in words (the schema's rule), the stable code beside it.
  await expect(page.getByTestId("display-name-result")).toContainText("Display name must be 1-60 characters.");
  await expect(page.getByTestId("display-name-result")).toContainText("(code invalid_input)");
  await expect(page.getByTestId("display-name")).toHaveText("Caroline");

  await page.getByRole("button", { name: "Upgrade to pro" }).click();
  await expect(page.getByTestId("tier")).toHaveText("pro");
  await expect(page.getByTestId("tier-result")).toHaveText("Upgraded to pro: the session says pro now.");
  await expect(page.getByRole("button", { name: "Downgrade to free" })).toBeVisible();
  // The client session (useSession) sees it too, not only the server render.
  await page.goto("/dashboard");
  await expect(page.locator('[data-field="claims.tier"] [data-testid="client-value"]')).toHaveText("pro");
  await page.goto("/account");
  await page.getByRole("button", { name: "Downgrade to free" }).click();
  await expect(page.getByTestId("tier")).toHaveText("free");

  // Carol has no credits: the server refuses, the balance stays.
  await page.getByRole("button", { name: "Spend 1 credit" }).click();
  await expect(page.getByTestId("credits-result")).toContainText("You have no credits left to spend.");
  await expect(page.getByTestId("credits-result")).toContainText("(code no_credits)");
  await expect(page.getByTestId("credits")).toHaveText("0");
});

test("spending a credit: the server writes the new balance into the session", async ({ page }) => {
  await signIn(page, "bob@example.com");
  await page.goto("/account");
  await expect(page.getByTestId("credits")).toHaveText("10");
  await page.getByRole("button", { name: "Spend 1 credit" }).click();
  await expect(page.getByTestId("credits-result")).toHaveText("Spent 1 credit: 9 left.");
  await expect(page.getByTestId("credits")).toHaveText("9");
  const session = await (await page.request.get("/api/auth/session")).json();
  expect(session.claims.credits).toBe(9);
});
