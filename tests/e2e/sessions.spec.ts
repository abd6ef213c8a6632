import { expect, test } from "@playwright/test";
import { signedInBrowsers } from "./helpers";

test("an admin's role change reaches the member's open browser without re-login", async ({ browser }) => {
  const { pages: [admin, member], close } = await signedInBrowsers(browser, "alice@example.com", "bob@example.com");
  await expect(member.getByRole("link", { name: "Admin" })).toHaveCount(0);

  const bobRow = admin.locator('[data-member="bob@example.com"]');
  const setRole = async (role: string) => {
    await admin.goto("/admin");
    await bobRow.getByLabel("Role of bob@example.com").selectOption(role);
    await bobRow.getByRole("button", { name: "Save" }).click();
    await expect(bobRow.getByTestId("role")).toHaveText(role);
  };

  await setRole("admin");
  await member.reload();
  await expect(member.getByRole("link", { name: "Admin" })).toBeVisible();
  expect((await member.goto("/admin"))?.status()).toBe(200);

  await setRole("member");
  await member.reload();
  await expect(member.getByRole("link", { name: "Admin" })).toHaveCount(0);
  await expect(member.getByTestId("forbidden")).toBeVisible();
  await close();
});

test("sign out other sessions signs the other browser out", async ({ browser }) => {
  const { pages: [a, b], close } = await signedInBrowsers(browser, "dave@example.com", "dave@example.com");

  await a.goto("/sessions");
  await expect(a.locator('[data-testid="sessions"] tbody tr')).toHaveCount(2);
  await expect(a.locator('tr[data-current="yes"]')).toContainText("(this browser)");
  // Destructive: it asks first. Cancelled, nothing happens.
  a.once("dialog", (dialog) => void dialog.dismiss());
  await a.getByRole("button", { name: "Sign out all other sessions" }).click();
  await expect(a.getByTestId("revoke-others-result")).toBeEmpty();
  await expect(a.locator('[data-testid="sessions"] tbody tr')).toHaveCount(2);
  a.once("dialog", (dialog) => {
    expect(dialog.message()).toContain("Sign out every other device?");
    void dialog.accept();
  });
  await a.getByRole("button", { name: "Sign out all other sessions" }).click();
  await expect(a.getByTestId("revoke-others-result")).toHaveText("Signed out 1 other session.");
  await expect(a.locator('[data-testid="sessions"] tbody tr')).toHaveCount(1);

  await b.reload();
  await expect(b.getByRole("button", { name: "Sign in" })).toBeVisible();
  expect(await (await b.request.get("/api/auth/session")).json()).toBeNull();
  await a.reload();
  await expect(a.getByTestId("signed-in-as")).toHaveText("dave@example.com");
  await close();
});
