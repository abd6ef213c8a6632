import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./helpers";

const PROVIDER = `http://127.0.0.1:${process.env.E2E_OIDC_PORT ?? 9100}`;

interface Stats {
  refreshGrants: number;
  refreshSuccess: number;
  refreshErrors: number;
  reuseDetected: number;
  authorizationCodeGrants: number;
  grantsRevoked: number;
}

async function stats(page: Page): Promise<Stats> {
  return (await (await page.request.get(`${PROVIDER}/__dev/stats`)).json()) as Stats;
}

test("a 3-second access token across three tabs for several lifetimes: never signed out, no reuse", async ({ context }) => {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()];
  await signIn(tabs[0]!, "tabs+ttl3@example.com");
  await tabs[0]!.request.post(`${PROVIDER}/__dev/reset`);
  const paths = ["/api-demo", "/dashboard", "/invoices", "/api-demo", "/inspector", "/account"];
  let step = 0;
  // Browse until the provider has refreshed four times: four token lifetimes, three tabs,
  // server components (api-demo reads the access token on the server) and client session reads.
  while ((await stats(tabs[0]!)).refreshSuccess < 4) {
    expect(step, "bounded: four lifetimes should not need this many page loads").toBeLessThan(400);
    const tab = tabs[step % 3]!;
    const path = paths[step % paths.length]!;
    step++;
    expect((await tab.goto(path))?.status()).toBe(200);
    await expect(tab.getByTestId("signed-in-as")).toHaveText("tabs@example.com");
    if (path === "/api-demo") await expect(tab.getByTestId("userinfo-status")).toHaveText("200");
  }
  // And all three at once.
  await Promise.all(tabs.map((t) => t.goto("/api-demo")));
  for (const t of tabs) await expect(t.getByTestId("userinfo-status")).toHaveText("200");
  const final = await stats(tabs[0]!);
  expect(final.reuseDetected).toBe(0);
  expect(final.refreshErrors).toBe(0);
  expect(final.grantsRevoked).toBe(0);
  expect(Number(await tabs[0]!.getByTestId("refresh-count").textContent())).toBeGreaterThanOrEqual(4);
  // The access token never reached the page.
  for (const t of tabs) expect(await t.content()).not.toMatch(/access_token|refresh_token/);
});

test("a revoked grant sends the user to sign in once, then stops instead of looping", async ({ page }) => {
  await signIn(page, "revoked+ttl2@example.com");
  // Off the app while the grant is revoked: the page (its watcher) must first see the error on the
  // load below, not mid-way through a reload that would cancel the redirect it starts.
  await page.goto("about:blank");
  await page.request.post(`${PROVIDER}/__dev/reset`);
  await page.request.post(`${PROVIDER}/__dev/fault`, { data: { mode: "invalid_grant", count: 50 } });
  const oauthError = async () => ((await (await page.request.get("/api/auth/session")).json()) as { errors?: { oauth?: string } } | null)?.errors?.oauth;

  // The provider refuses the refresh once the token is due; the session keeps the error as data.
  await expect.poll(oauthError, { timeout: 15_000 }).toBe("invalid_grant");
  // The page sees it and sends the user through the provider once (which asks for consent again:
  // offline_access needs it); they come back signed in.
  await page.goto("/dashboard");
  await page.getByRole("button", { name: "Continue" }).click();
  await expect.poll(async () => (await stats(page)).authorizationCodeGrants, { timeout: 15_000 }).toBe(1);
  await expect(page.getByTestId("signed-in-as")).toHaveText("revoked@example.com");

  // The provider keeps refusing (the fault is still on): this time the page says so instead of
  // redirecting again.
  await expect.poll(oauthError, { timeout: 15_000 }).toBe("invalid_grant");
  await page.reload();
  await expect(page.getByTestId("reauth-blocked")).toContainText("invalid_grant");
  expect((await stats(page)).authorizationCodeGrants).toBe(1);
  await page.request.post(`${PROVIDER}/__dev/fault`, { data: { mode: "none" } });
});
