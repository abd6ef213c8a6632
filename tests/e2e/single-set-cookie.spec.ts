// One Set-Cookie per cookie per response (#16, item 3; upstream next-auth #11370 is the session
// endpoint's variant). Here the proxy refreshes a due access token on a server action's request
// and the action writes the session too (updateSession): both used to reach the browser. Runs
// after sign-in.spec.ts (files run in name order): it spends some of alice's credits.
import { expect, test, type Page, type Response, type Route } from "@playwright/test";
import { signIn } from "./helpers";

const PROVIDER = `http://127.0.0.1:${process.env.E2E_OIDC_PORT ?? 9100}`;

async function refreshes(page: Page): Promise<number> {
  return ((await (await page.request.get(`${PROVIDER}/__dev/stats`)).json()) as { refreshSuccess: number }).refreshSuccess;
}

/** Names set more than once by one response. */
async function repeatedCookies(response: Response): Promise<string[]> {
  const names = (await response.headersArray()).filter((h) => h.name.toLowerCase() === "set-cookie").map((h) => h.value.slice(0, h.value.indexOf("=")).trim());
  return names.filter((n, i) => names.indexOf(n) !== i);
}

test("a server action that writes the session while the proxy refreshes it sends the session cookie once", async ({ page }) => {
  // A 2-second access token: due a second after each refresh.
  await signIn(page, "alice+ttl2@example.com");
  await page.goto("/account");
  const repeated: string[] = [];
  page.on("response", async (response) => {
    for (const name of await repeatedCookies(response)) repeated.push(`${response.request().method()} ${new URL(response.url()).pathname}: ${name}`);
  });

  // While an action is in flight, hold every other request that could refresh (the page's session
  // reads, Server Component refreshes): a refresh counted by the provider then came from the action's own request.
  let holding = false;
  const held: Route[] = [];
  await page.route(() => true, async (route) => {
    const request = route.request();
    const mayRefresh = new URL(request.url()).pathname === "/api/auth/session" || (request.headers()["rsc"] === "1" && !request.headers()["next-action"]);
    if (holding && mayRefresh) held.push(route);
    else await route.continue();
  });

  let action: Response | null = null;
  for (let attempt = 0; attempt < 40 && action === null; attempt++) {
    const before = await refreshes(page);
    holding = true;
    const answered = page.waitForResponse((r) => r.request().method() === "POST" && r.request().headers()["next-action"] !== undefined);
    await page.getByRole("button", { name: "Spend 1 credit" }).click();
    const response = await answered;
    const refreshedInAction = (await refreshes(page)) > before;
    holding = false;
    for (const route of held.splice(0)) await route.continue();
    await expect(page.getByTestId("credits-result")).toContainText("Spent 1 credit");
    if (refreshedInAction) action = response;
  }
  expect(action, "within 40 spends the token was due on an action's request").not.toBeNull();
  // Names and attributes only in the report: a failure must not print the cookie's value.
  const sessionCookies = (await action!.headersArray())
    .filter((h) => h.name.toLowerCase() === "set-cookie" && h.value.startsWith("authjs.session-token"))
    .map((h) => `${h.value.slice(0, h.value.indexOf("="))}=…${h.value.slice(h.value.indexOf(";"))}`);
  expect(sessionCookies, "the action's response sets the session once: the update, built on the refreshed token").toHaveLength(1);
  expect(repeated, "no response set a cookie twice").toEqual([]);
  // And the browser holds a working session with the new balance.
  const session = (await (await page.request.get("/api/auth/session")).json()) as { claims: { credits: number } };
  await expect(page.getByTestId("credits")).toHaveText(String(session.claims.credits));
});
