import { mkdirSync } from "node:fs";
import path from "node:path";
import axe from "axe-core";
import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { signIn, signOut } from "./helpers";

// Every page, as each seeded user sees it: an axe-core scan (no serious or critical violation of
// WCAG 2.1 A/AA or axe's best practices), no sideways scroll at 390 px, and a full-page screenshot
// of each, kept under test-results/screenshots/ and attached to the test.
//
// By default each user's pages are scanned at one width, the users taking turns (alice and carol at
// 1280 px, bob and dave at 390 px, dark mode at 390 px), so every page is seen at both widths and in
// both colour schemes, signed out at both widths. A11Y_FULL=1 scans every page at both widths for
// every user and in dark mode (the full matrix, about twice as long).

const PAGES = ["/", "/dashboard", "/invoices", "/account", "/sessions", "/inspector", "/api-demo", "/admin"];
const WIDTHS = [1280, 390] as const;
type Width = (typeof WIDTHS)[number];
const FULL = process.env.A11Y_FULL === "1";
/** The widths a signed-in scan covers: `width` by default, both with A11Y_FULL=1. */
const widthsFor = (width: Width): readonly Width[] => (FULL ? WIDTHS : [width]);
const SHOTS = path.join("test-results", "screenshots");

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

declare global {
  interface Window {
    axe: { run(context: Document, options: object): Promise<{ violations: Violation[] }> };
  }
}

/** The page once its client session has loaded and nothing is pending. */
async function settle(page: Page): Promise<void> {
  await page.waitForLoadState("networkidle");
  await expect(page.locator("main")).toBeVisible();
}

async function scan(page: Page, label: string): Promise<void> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axe.source });
  const { violations } = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] }, resultTypes: ["violations"] }),
  );
  const bad = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`);
  expect(bad, label).toEqual([]);
}

async function noSidewaysScroll(page: Page, label: string): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${label} scrolls sideways`).toBeLessThanOrEqual(0);
}

async function shoot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  const dir = path.join(SHOTS, path.dirname(name));
  mkdirSync(dir, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
}

/** Visit, settle, scan, check the width and keep a screenshot, at each of `widths`. */
async function check(page: Page, testInfo: TestInfo, url: string, name: string, widths: readonly Width[] = WIDTHS): Promise<void> {
  for (const width of widths) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.goto(url);
    await settle(page);
    const label = `${name} at ${width} px`;
    await scan(page, label);
    if (width === 390) await noSidewaysScroll(page, label);
    await shoot(page, testInfo, `${name}-${width}`);
  }
}

const slug = (url: string) => (url === "/" ? "home" : url.replace(/^\//, "").replace(/[^a-z0-9]+/gi, "-"));

test("signed out: home, a deep link's notice and the 404 page", async ({ page }, testInfo) => {
  await check(page, testInfo, "/", "signed-out/home");
  await check(page, testInfo, "/?callbackUrl=%2Finvoices", "signed-out/deep-link");
  await check(page, testInfo, "/no-such-page", "signed-out/404");
});

for (const [user, width] of [["alice", 1280], ["bob", 390], ["carol", 1280], ["dave", 390]] as const) {
  test(`every page as ${user}${FULL ? "" : ` at ${width} px`}`, async ({ page }, testInfo) => {
    await signIn(page, `${user}@example.com`);
    for (const url of PAGES) {
      await check(page, testInfo, url, `${user}/${slug(url)}`, widthsFor(width));
      // Every page is the page it says, signed in as this user (a redirect home would pass the rest).
      await expect(page.getByTestId("signed-in-as")).toHaveText(`${user}@example.com`);
    }
    // Leave no session behind: other tests count this user's sessions.
    await signOut(page);
  });
}

test(`dark mode: every page as alice${FULL ? "" : " at 390 px"}`, async ({ page }, testInfo) => {
  await page.emulateMedia({ colorScheme: "dark" });
  await signIn(page, "alice@example.com");
  for (const url of PAGES) await check(page, testInfo, url, `dark/${slug(url)}`, widthsFor(390));
});

test("keyboard: a skip link leads to the content and focus is always visible", async ({ page }) => {
  await signIn(page, "bob@example.com");
  await page.goto("/invoices");
  await settle(page);
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  // Every focusable control shows an outline when reached by keyboard.
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    const outline = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      return { what: `${el.tagName} ${el.textContent?.trim().slice(0, 30)}`, width: parseFloat(style.outlineWidth), style: style.outlineStyle };
    });
    if (!outline) continue;
    expect(outline.style, outline.what).not.toBe("none");
    expect(outline.width, outline.what).toBeGreaterThanOrEqual(2);
  }
});
