import { expect, type Browser, type Page } from "@playwright/test";

/** Sign in through the OIDC provider's own login and consent pages, as a person would. */
export async function signIn(page: Page, login: string): Promise<void> {
  await page.goto("/");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  const consent = page.getByRole("button", { name: "Continue" });
  // Apps asking for offline_access send prompt=consent, so the provider asks every time; others
  // only on the first grant: wait for whichever comes first.
  await expect(consent.or(page.getByTestId("signed-in-as"))).toBeVisible();
  if (await consent.isVisible()) await consent.click();
  await expect(page.getByTestId("signed-in-as")).toBeVisible();
}

/**
 * One browser of its own (a fresh context) per login, each signed in, in order: a user on several
 * devices, or an admin and a member side by side. `close()` ends them all.
 */
export async function signedInBrowsers<const L extends readonly string[]>(browser: Browser, ...logins: L): Promise<{ pages: { [K in keyof L]: Page }; close(): Promise<void> }> {
  const pages: Page[] = [];
  for (const login of logins) {
    const page = await (await browser.newContext()).newPage();
    pages.push(page);
    await signIn(page, login);
  }
  return {
    pages: pages as { [K in keyof L]: Page },
    close: async () => {
      for (const page of pages) await page.context().close();
    },
  };
}

/** Sign out through the app and the provider (RP-Initiated Logout), ending the session. */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
}

/** What a user could type in the browser console: a hand-made update() POST. */
export async function forgeUpdate<S = { claims: Record<string, unknown>; update?: { code?: string } } | null>(page: Page, data: unknown): Promise<S> {
  return page.evaluate(async (payload) => {
    const { csrfToken } = (await (await fetch("/api/auth/csrf")).json()) as { csrfToken: string };
    const response = await fetch("/api/auth/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ csrfToken, data: payload }),
    });
    return response.json();
  }, data) as Promise<S>;
}
