import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

// Issue #16, item 1 (upstream next-auth #8897): a slow GET /api/auth/session answered before an
// update() but delivered after it sets the older cookie again. The kit brings that cookie forward
// on its next request: the update is never rolled back.
test("a slow session response that lands after update() does not roll the update back", async ({ page, context }) => {
  await signIn(page, "alice@example.com");
  await page.goto("/dashboard");
  const switcher = page.getByTestId("tenant-switcher");
  const before = await switcher.inputValue();

  // Hold the next GET /api/auth/session: the server answers it now (with the cookie as it is before
  // the switch); the browser gets that answer, and its Set-Cookie, only after the switch.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let answered!: (cookie: string) => void;
  const heldCookie = new Promise<string>((resolve) => (answered = resolve));
  let held = false;
  await page.route("**/api/auth/session", async (route) => {
    if (route.request().method() !== "GET" || held) return route.continue();
    held = true;
    const response = await route.fetch();
    const setCookie = response.headersArray().find((h) => h.name.toLowerCase() === "set-cookie" && h.value.startsWith("authjs.session-token="));
    answered(setCookie?.value.slice("authjs.session-token=".length).split(";")[0] ?? "");
    await released;
    await route.fulfill({ response });
  });
  const slow = page.evaluate(() => fetch("/api/auth/session").then((r) => r.status));
  const stale = await heldCookie;
  expect(stale, "the held answer sets the session cookie").not.toBe("");

  const other = (await switcher.locator("option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).find((v) => v && v !== before)!;
  await switcher.selectOption(other);
  await expect(page.getByTestId("tenant-switcher-result")).toContainText("Switched to");

  release();
  expect(await slow).toBe(200);
  await page.unroute("**/api/auth/session");
  const now = (await context.cookies()).find((c) => c.name === "authjs.session-token")?.value;
  expect(now, "the browser now holds the older cookie the slow answer set").toBe(stale);

  await page.goto("/dashboard");
  await expect(switcher).toHaveValue(other);
});
