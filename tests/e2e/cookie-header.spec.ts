// The whole request's Cookie header against the proxy limit (#16, item 3): the session's chunks and
// the app's other cookies, as the token inspector shows them.
import { expect, test } from "@playwright/test";
import { signIn } from "./helpers";

test("the token inspector measures the whole Cookie header against the 8 KB limit, other cookies included", async ({ page, context, baseURL }) => {
  await signIn(page, "header@example.com");
  const sent = async () => {
    const request = page.waitForRequest((r) => new URL(r.url()).pathname === "/inspector" && r.resourceType() === "document");
    await page.goto("/inspector");
    return (await (await request).allHeaders())["cookie"] ?? "";
  };

  let cookie = await sent();
  await expect(page.getByTestId("header-status")).toHaveText("within the limit");
  await expect(page.getByTestId("header-bytes")).toHaveText(String("Cookie: ".length + Buffer.byteLength(cookie)));
  // The session's share: its name=value pairs as sent, each after the first cookie with its "; ".
  const parts = cookie.split("; ");
  const sessionShare = parts.reduce((n, part, i) => (part.startsWith("authjs.session-token") ? n + part.length + (i > 0 ? 2 : 0) : n), 0);
  await expect(page.getByTestId("header-session-bytes")).toHaveText(String(sessionShare));

  // The app's own cookies count too: two 3.8 KB ones (a browser keeps each under 4 KB) take the
  // request over the limit, though the session cookie alone is well within its own budget.
  await context.addCookies([{ name: "prefs", value: "p".repeat(3800), url: baseURL! }, { name: "cart", value: "c".repeat(3800), url: baseURL! }]);
  cookie = await sent();
  await expect(page.getByTestId("header-status")).toHaveText("over the limit");
  await expect(page.getByTestId("header-bytes")).toHaveText(String("Cookie: ".length + Buffer.byteLength(cookie)));
  expect(Number(await page.getByTestId("header-other-bytes").textContent())).toBeGreaterThan(7600);
  await expect(page.getByTestId("header-cookies")).toContainText("prefs 3806");
  await expect(page.getByTestId("header-cookies")).toContainText("cart 3805");
  await expect(page.getByTestId("budget-status")).toHaveText("within budget");
  // Names and sizes only: no cookie value is rendered.
  expect(await page.content()).not.toContain("p".repeat(100));
});
