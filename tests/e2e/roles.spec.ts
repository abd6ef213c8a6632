import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("an admin of the current tenant sees the admin page and every enabled button", async ({ page }) => {
  await signIn(page, "alice@example.com");
  await expect(page.getByRole("link", { name: "Admin" })).toBeVisible();
  const admin = await page.goto("/admin");
  expect(admin?.status()).toBe(200);
  await expect(page.getByRole("heading", { name: "Admin: Acme Corp" })).toBeVisible();
  await expect(page.getByTestId("members")).toContainText("bob@example.com");

  await page.goto("/invoices");
  for (const name of ["Create invoice", "Delete invoice INV-0001", "Export report", "Invite member"]) {
    await expect(page.getByRole("button", { name, exact: true })).toBeEnabled();
  }
  await expect(page.getByTestId("missing-permissions")).toHaveCount(0);
});

test("a member gets 403 on the admin page and only the buttons their permissions allow", async ({ page }) => {
  await signIn(page, "bob@example.com");
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  const admin = await page.goto("/admin");
  expect(admin?.status()).toBe(403);
  await expect(page.getByTestId("forbidden")).toBeVisible();

  await page.goto("/invoices");
  await expect(page.getByTestId("permissions")).toHaveText("invoice:read, invoice:create, report:export");
  await expect(page.getByRole("button", { name: "Create invoice" })).toBeEnabled();
  await expect(page.getByRole("button", { name: "Export report" })).toBeEnabled();
  await expect(page.getByRole("button", { name: "Delete invoice INV-0001" })).toBeDisabled();
  await expect(page.getByRole("button", { name: "Invite member" })).toBeDisabled();
  // Disabled buttons say why, to the eye and to screen readers.
  await expect(page.getByTestId("missing-permissions")).toHaveText("Disabled: your role here lacks invoice:delete, member:invite.");
  await expect(page.getByRole("button", { name: "Delete invoice INV-0001" })).toHaveAttribute("title", "Needs the invoice:delete permission");
  await expect(page.getByRole("button", { name: "Invite member" })).toHaveAccessibleDescription("Disabled: your role here lacks invoice:delete, member:invite.");
});

test("switching to a tenant where she is a member takes the admin page away", async ({ page }) => {
  await signIn(page, "alice@example.com");
  await page.getByTestId("tenant-switcher").selectOption({ label: "Globex" });
  await expect(page.getByTestId("current-tenant")).toHaveText("Globex");
  await expect(page.getByTestId("tenant-role")).toHaveText("member");
  await expect(page.getByRole("link", { name: "Admin" })).toHaveCount(0);
  expect((await page.goto("/admin"))?.status()).toBe(403);

  // Back again: the switcher only offers her own tenants, and the admin page returns.
  await page.goto("/dashboard");
  await page.getByTestId("tenant-switcher").selectOption({ label: "Acme Corp" });
  await expect(page.getByTestId("tenant-role")).toHaveText("admin");
  expect((await page.goto("/admin"))?.status()).toBe(200);
});

test("at 390 px no page scrolls sideways", async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "alice@example.com");
  for (const path of ["/", "/dashboard", "/invoices", "/account", "/sessions", "/inspector", "/api-demo", "/admin"]) {
    await page.goto(path);
    await expect(page.getByTestId("signed-in-as")).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, path).toBeLessThanOrEqual(0);
  }
});

test("admin: after Save the menu shows the saved role, and a refused change says why", async ({ page }) => {
  await signIn(page, "alice@example.com");
  await page.goto("/admin");
  const bob = page.locator('[data-member="bob@example.com"]');
  try {
    await bob.getByLabel("Role of bob@example.com").selectOption("viewer");
    await bob.getByRole("button", { name: "Save" }).click();
    await expect(bob.getByTestId("role")).toHaveText("viewer");
    await expect(bob.getByTestId("role-result")).toContainText("Role set to viewer");
    // The menu shows what was saved, so a second Save would keep viewer instead of reverting.
    await expect(bob.getByLabel("Role of bob@example.com")).toHaveValue("viewer");

    // An admin may not make owners: refused, in words, with the code beside it.
    await bob.getByLabel("Role of bob@example.com").selectOption("owner");
    await bob.getByRole("button", { name: "Save" }).click();
    await expect(bob.getByTestId("role-result")).toContainText("Only an owner can make or unmake owners.");
    await expect(bob.getByTestId("role-result")).toContainText("owner_only");
    await expect(bob.getByTestId("role")).toHaveText("viewer");
  } finally {
    await page.goto("/admin");
    await bob.getByLabel("Role of bob@example.com").selectOption("member");
    await bob.getByRole("button", { name: "Save" }).click();
    await expect(bob.getByTestId("role")).toHaveText("member");
  }
});
