import path from "node:path";
import Database from "better-sqlite3";
import { expect, test } from "@playwright/test";
import { signedInBrowsers, signIn, signOut } from "./helpers";

// What the app tells a user when something changed under them: a session ended elsewhere, a role
// changed by an admin, a provider grant that is gone, a page their role does not allow.

const PROVIDER = `http://127.0.0.1:${process.env.E2E_OIDC_PORT ?? 9100}`;
// The database scripts/e2e-server.sh gives the app under test.
const E2E_DB = path.join(process.cwd(), ".data", "e2e.db");

test("a session signed out from another device lands on / saying so, on its next page and on an open page", async ({ browser }) => {
  // A user of its own: the count of other sessions is exactly these.
  const { pages: [here, next, open], close } = await signedInBrowsers(browser, "ended@example.com", "ended@example.com", "ended@example.com");
  await open.goto("/invoices");

  await here.goto("/sessions");
  here.once("dialog", (dialog) => void dialog.accept());
  await here.getByRole("button", { name: "Sign out all other sessions" }).click();
  await expect(here.getByTestId("revoke-others-result")).toHaveText("Signed out 2 other sessions.");

  // Its next request: home, the notice, and the way back to where it was going.
  await next.goto("/account");
  await expect(next).toHaveURL(/\/\?callbackUrl=%2Faccount$/);
  await expect(next.getByTestId("session-ended")).toContainText("You were signed out on this device.");
  await expect(next.getByTestId("sign-in-to-continue")).toContainText("/account");
  // Said once: the browser's session read answers no session and clears the dead cookie, and the
  // next visit is plain.
  await expect.poll(() => next.evaluate(async () => (await fetch("/api/auth/session")).json())).toBeNull();
  expect((await next.context().cookies()).some((c) => c.name.startsWith("authjs.session-token"))).toBe(false);
  await next.goto("/");
  await expect(next.getByTestId("session-ended")).toHaveCount(0);

  // A page left open learns it when its session is read again (here: the tab becomes visible, as
  // often as it takes for the session read to say the session is gone).
  await expect.poll(async () => {
    await open.evaluate(() => document.dispatchEvent(new Event("visibilitychange"))).catch(() => undefined);
    return open.url();
  }).toMatch(/\/\?ended=1&callbackUrl=%2Finvoices$/);
  await expect(open.getByTestId("session-ended")).toContainText("You were signed out on this device.");

  // The device that acted is still signed in, and signing out yourself says nothing of the kind.
  await here.reload();
  await expect(here.getByTestId("signed-in-as")).toHaveText("ended@example.com");
  await signOut(here);
  await expect(here.getByTestId("session-ended")).toHaveCount(0);
  await close();
});

test("a role change made by an admin arrives with a notice saying what was lost", async ({ browser }) => {
  const { pages: [admin, member], close } = await signedInBrowsers(browser, "alice@example.com", "bob@example.com");
  await member.goto("/invoices");
  await expect(member.getByTestId("access-notice")).toBeEmpty();

  const bob = admin.locator('[data-member="bob@example.com"]');
  const setRole = async (role: string) => {
    await admin.goto("/admin");
    await bob.getByLabel("Role of bob@example.com").selectOption(role);
    await bob.getByRole("button", { name: "Save" }).click();
    await expect(bob.getByTestId("role")).toHaveText(role);
  };
  try {
    await setRole("viewer");
    await member.reload();
    const notice = member.getByTestId("access-notice");
    await expect(notice).toContainText("Your access was reduced.");
    await expect(notice).toContainText("Your role in this tenant changed from member to viewer.");
    // Bob keeps report:export: it is a grant of his membership, not of the role.
    await expect(notice).toContainText("You can no longer use: invoice:create.");
    await expect(member.getByRole("button", { name: "Create invoice" })).toBeDisabled();
    await notice.getByRole("button", { name: "Dismiss" }).click();
    await expect(notice).toBeEmpty();
    // Said once: the next page has nothing new to say.
    await member.reload();
    await expect(notice).toBeEmpty();
  } finally {
    await setRole("member");
  }
  await member.reload();
  await expect(member.getByTestId("access-notice")).toContainText("You can now also use: invoice:create.");
  await expect(member.getByTestId("access-notice")).not.toContainText("reduced");
  await close();
});

test("a switch of one's own tenant is no news", async ({ page }) => {
  await signIn(page, "alice@example.com");
  await page.getByTestId("tenant-switcher").selectOption({ label: "Globex" });
  await expect(page.getByTestId("tenant-switcher-result")).toHaveText("Switched to Globex: you are member there.");
  await expect(page.getByTestId("tenant-role")).toHaveText("member");
  await page.reload();
  await expect(page.getByTestId("access-notice")).toBeEmpty();
  await page.getByTestId("tenant-switcher").selectOption({ label: "Acme Corp" });
  await expect(page.getByTestId("tenant-role")).toHaveText("admin");
});

test("403 names the missing permission, and offers the tenant where the user's role has it", async ({ page, browser }) => {
  await signIn(page, "alice@example.com");
  await page.getByTestId("tenant-switcher").selectOption({ label: "Globex" });
  await expect(page.getByTestId("tenant-role")).toHaveText("member");
  expect((await page.goto("/admin"))?.status()).toBe(403);
  await expect(page.getByTestId("forbidden")).toHaveText("The admin page needs the tenant:admin permission, which you do not have in Globex as member.");
  await expect(page.getByTestId("forbidden-switch")).toContainText("you are admin there");
  await page.getByRole("button", { name: "Switch to Acme Corp" }).click();
  await expect(page.getByRole("heading", { name: "Admin: Acme Corp" })).toBeVisible();

  // Bob has no tenant where a role gives it: no switch, whom to ask instead.
  const context = await browser.newContext();
  const bob = await context.newPage();
  await signIn(bob, "bob@example.com");
  expect((await bob.goto("/admin"))?.status()).toBe(403);
  await expect(bob.getByTestId("forbidden")).toContainText("needs the tenant:admin permission, which you do not have in Acme Corp as member.");
  await expect(bob.getByTestId("forbidden-switch")).toHaveCount(0);
  await expect(bob.getByText("Ask an admin or owner of Acme Corp for it")).toBeVisible();
  await context.close();
});

test("a provider grant that is gone: the Provider API page explains the 401 and signs in again", async ({ page }) => {
  await signIn(page, "grant@example.com");
  await page.goto("/api-demo");
  await expect(page.getByTestId("userinfo-status")).toHaveText("200");
  await expect(page.getByTestId("grant-gone")).toHaveCount(0);

  // The provider forgets the grant (as a restart of the bundled provider does): revoke it with the
  // refresh token the app keeps in its vault.
  const db = new Database(E2E_DB, { readonly: true });
  const row = db.prepare(`SELECT a."refresh_token" AS token FROM "Account" a JOIN "User" u ON u."id" = a."userId" WHERE u."email" = ?`).get("grant@example.com") as { token: string | null } | undefined;
  db.close();
  expect(row?.token).toBeTruthy();
  const revoked = await page.request.post(`${PROVIDER}/token/revocation`, {
    form: { token: row!.token!, token_type_hint: "refresh_token" },
    headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(process.env.AUTH_OIDC_ID ?? "reference-app")}:${encodeURIComponent(process.env.AUTH_OIDC_SECRET ?? "reference-app-dev-secret")}`).toString("base64")}` },
  });
  expect(revoked.status()).toBe(200);

  await page.reload();
  await expect(page.getByTestId("userinfo-status")).toHaveText("401");
  const gone = page.getByTestId("grant-gone");
  await expect(gone).toContainText("The provider no longer accepts this sign-in.");
  await expect(gone).toContainText("invalid_token");
  await gone.getByRole("button", { name: "Sign in again" }).click();
  // The provider asks for consent again (offline_access), then the app is back on this page.
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page).toHaveURL(/\/api-demo$/);
  await expect(page.getByTestId("userinfo-status")).toHaveText("200");
  await expect(page.getByTestId("grant-gone")).toHaveCount(0);
});
