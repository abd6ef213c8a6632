import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { signIn, signOut } from "./helpers";

// The Invoices page acts on real invoices of the current tenant, and every action answers next to
// its control: pending while it runs, then what happened in words (codes on the side).

test("an admin creates, exports and deletes invoices; each action answers in words", async ({ page }) => {
  await signIn(page, "alice@example.com");
  await page.goto("/invoices");
  await expect(page.getByRole("heading", { name: "Invoices: Acme Corp" })).toBeVisible();
  const rows = page.locator('[data-testid="invoices"] tbody tr');
  const before = await rows.count();
  expect(before).toBeGreaterThan(0);

  // Refused input, in words.
  await page.getByLabel("Customer").fill("Tyrell Corp");
  await page.getByLabel("Amount (EUR)").fill("0");
  await page.getByRole("button", { name: "Create invoice" }).click();
  await expect(page.getByTestId("create-result")).toContainText("Amount must be between 0.01 and 1,000,000.00.");
  await expect(page.getByTestId("create-result")).toContainText("(code invalid_input)");
  await expect(rows).toHaveCount(before);

  await page.getByLabel("Customer").fill("Tyrell Corp");
  await page.getByLabel("Amount (EUR)").fill("120.50");
  await page.getByRole("button", { name: "Create invoice" }).click();
  await expect(page.getByTestId("create-result")).toHaveText(/^Created invoice (INV-\d{4}) for Tyrell Corp, €120\.50\.$/);
  const number = /INV-\d{4}/.exec((await page.getByTestId("create-result").textContent()) ?? "")![0];
  await expect(rows).toHaveCount(before + 1);
  const row = page.locator(`[data-invoice="${number}"]`);
  await expect(row).toContainText("Tyrell Corp");
  await expect(row).toContainText("draft");

  // The report is a file of this tenant's invoices.
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export report" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("acme-invoices.csv");
  const csv = readFileSync(await file.path(), "utf8");
  expect(csv.split("\r\n")[0]).toBe('"number","customer","amount","status","created"');
  expect(csv).toContain(`"${number}","Tyrell Corp","120.50","draft"`);
  await expect(page.getByTestId("export-result")).toContainText(`Exported ${before + 1} invoices of Acme Corp`);

  // Deleting asks first; cancelled, nothing happens.
  page.once("dialog", (dialog) => void dialog.dismiss());
  await row.getByRole("button", { name: `Delete invoice ${number}` }).click();
  await expect(rows).toHaveCount(before + 1);
  page.once("dialog", (dialog) => {
    expect(dialog.message()).toBe(`Delete invoice ${number} (Tyrell Corp)? This cannot be undone.`);
    void dialog.accept();
  });
  await row.getByRole("button", { name: `Delete invoice ${number}` }).click();
  await expect(page.getByTestId("delete-result")).toHaveText(`Deleted invoice ${number} (Tyrell Corp).`);
  await expect(rows).toHaveCount(before);

  await page.getByLabel("E-mail to invite").fill("new.person@example.com");
  await page.getByRole("button", { name: "Invite member" }).click();
  await expect(page.getByTestId("invite-result")).toContainText("Allowed: the server checked member:invite for this tenant.");
});

test("each tenant shows its own invoices; no tenant, none", async ({ page, browser }) => {
  await signIn(page, "carol@example.com");
  await page.goto("/invoices");
  await expect(page.getByRole("heading", { name: "Invoices: Globex" })).toBeVisible();
  await expect(page.locator('[data-testid="invoices"]')).toContainText("Hooli");
  await expect(page.locator('[data-testid="invoices"]')).not.toContainText("Wayne Enterprises");
  // A viewer reads, and may not create.
  await expect(page.getByRole("button", { name: "Create invoice" })).toBeDisabled();

  const context = await browser.newContext();
  const dave = await context.newPage();
  await signIn(dave, "dave@example.com");
  await dave.goto("/invoices");
  await expect(dave.getByTestId("no-tenant")).toBeVisible();
  await expect(dave.locator('[data-testid="invoices"] tbody')).toHaveText("No invoices.");
  // Leave no session behind: other tests count dave's sessions.
  await signOut(dave);
  await context.close();
});
