// The reference app in Chromium against LemonLDAP::NG 2.16.1: its real login, consent and logout
// pages, its userinfo-only claims, its 6-second access tokens, and a grant deleted at the provider.
import { expect, test, type Page } from "@playwright/test";
import { LLNG } from "../../playwright.lemonldap.config";

interface Counts {
  token: { byGrant: Record<string, { total: number; byStatus: Record<string, number> }> };
  userinfo: { total: number; byStatus: Record<string, number> };
}

const counts = async (page: Page) => (await (await page.request.get(`${LLNG.control}/counts`)).json()) as Counts;
const refreshes = async (page: Page) => (await counts(page)).token.byGrant.refresh_token ?? { total: 0, byStatus: {} };

/** Sign in through LemonLDAP's own pages (the Demo backend: password = login), as a person would. */
async function signIn(page: Page, user: string): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#userfield").fill(user);
  await page.locator("#passwordfield").fill(user);
  await page.locator("#lform button[type=submit]").click();
  // The app asks for offline_access with prompt=consent: LemonLDAP asks every time.
  await page.locator("#form button.positive").click();
  await expect(page.getByTestId("signed-in-as")).toBeVisible();
}

/** When the access token the Provider API page shows expires (ms since the epoch). */
async function expiry(page: Page): Promise<number> {
  await page.goto("/api-demo");
  await expect(page.getByTestId("userinfo-status")).toHaveText("200");
  return Date.now() + Number((await page.getByTestId("expires-in").textContent())!.replace(/\D+$/, "")) * 1000;
}

test.describe.configure({ mode: "serial" });

test("email and name come from LemonLDAP's userinfo: the id_token carries neither", async ({ page }) => {
  await signIn(page, "dwho");
  await expect(page.getByTestId("signed-in-as")).toHaveText("dwho@badwolf.org");
  await page.goto("/dashboard");
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(page.getByText("Doctor Who").first()).toBeVisible();
});

test("three tabs after each expiry: one refresh call per window, userinfo answering with every new token", async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  await signIn(tabs[0]!, "rtyler");
  for (let window = 1; window <= 2; window++) {
    const expires = await expiry(tabs[0]!);
    await tabs[0]!.request.post(`${LLNG.control}/reset`);
    // The token's own expiry is the state waited for.
    await expect.poll(() => Date.now(), { timeout: LLNG.accessTokenTtl * 1000 + 5_000 }).toBeGreaterThan(expires);
    await Promise.all(tabs.map((t) => t.goto("/api-demo")));
    for (const t of tabs) await expect(t.getByTestId("userinfo-status")).toHaveText("200");
    const refresh = await refreshes(tabs[0]!);
    expect(refresh.total, `window ${window}: one refresh_token grant for three pages at once`).toBe(1);
    expect(refresh.byStatus["200"]).toBe(1);
    const userinfo = (await counts(tabs[0]!)).userinfo;
    expect(userinfo.byStatus["200"], "every userinfo call succeeded").toBe(userinfo.total);
  }
  for (const t of tabs) expect(await t.content()).not.toMatch(/access_token|refresh_token/);
});

test("a grant deleted at the provider: 'sign in again', after a bounded number of token calls", async ({ page }) => {
  await signIn(page, "msmith");
  const expires = await expiry(page);
  await page.request.post(`${LLNG.control}/end-offline-sessions?user=msmith`);
  await page.request.post(`${LLNG.control}/reset`);
  await page.goto("about:blank");
  const oauthError = async () => ((await (await page.request.get("/api/auth/session")).json()) as { errors?: { oauth?: string } } | null)?.errors?.oauth;
  await expect.poll(() => Date.now(), { timeout: LLNG.accessTokenTtl * 1000 + 5_000 }).toBeGreaterThan(expires);
  // Every poll is a session read: the refusal, then (after the back-off) the confirming attempt.
  await expect.poll(oauthError, { timeout: 20_000 }).toBe("invalid_grant");
  const refresh = await refreshes(page);
  expect(refresh.total).toBeLessThanOrEqual(2);
  expect(refresh.byStatus["400"]).toBe(refresh.total);
});

test("sign-out ends the LemonLDAP session too: the next sign-in asks for the password again", async ({ page }) => {
  await signIn(page, "dwho");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  // LemonLDAP's own confirmation ("Do you want to logout?"), then (2.16.1) its login page.
  await expect(page.locator(".oidc_logout_message")).toBeVisible();
  await page.locator("#form button.positive").click();
  await expect(page.locator("#lform")).toBeVisible();
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator("#userfield")).toBeVisible();
});
