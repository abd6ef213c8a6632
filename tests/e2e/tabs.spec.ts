// One browser, three tabs: a change in one reaches the others' client session and their Server
// Components (SessionSync), and no tab keeps re-reading. Runs after sign-in.spec.ts (files run in
// name order): it spends one of alice's credits, which that file expects untouched.
// Propagation delays are printed ("[session sync] …") and attached to the report, never asserted.
import { expect, test, type BrowserContext, type Page } from "@playwright/test";
import { signIn } from "./helpers";

/** Counts, per tab, reads of the session endpoint and Server Component refreshes. */
function traffic(page: Page) {
  const counts = { session: 0, rsc: 0 };
  page.on("request", (request) => {
    if (new URL(request.url()).pathname === "/api/auth/session") counts.session++;
    // Server Component requests, not link prefetches (every refresh re-prefetches the nav links).
    else if (request.headers()["rsc"] === "1" && !request.headers()["next-router-prefetch"]) counts.rsc++;
  });
  return {
    /** Requests since the last call. */
    take() {
      const now = { ...counts };
      counts.session = 0;
      counts.rsc = 0;
      return now;
    },
  };
}

/** Record (in the page, by the browser's clock) when an element first shows a text. */
async function stamp(page: Page, name: string, selector: string, text: string): Promise<void> {
  await page.evaluate(({ name, selector, text }) => {
    const w = window as unknown as { __stamps?: Record<string, number> };
    const stamps = (w.__stamps ??= {});
    const check = () => {
      if (stamps[name] === undefined && document.querySelector(selector)?.textContent?.includes(text)) stamps[name] = Date.now();
    };
    new MutationObserver(check).observe(document.body, { subtree: true, childList: true, characterData: true });
    check();
  }, { name, selector, text });
}

const stampOf = (page: Page, name: string) => page.evaluate((n) => (window as unknown as { __stamps: Record<string, number> }).__stamps[n]!, name);

/** Mark, in tab A, the moment before it makes a change. */
const markStart = (page: Page) => page.evaluate(() => void performance.mark("sync-start"));

/**
 * When A received the response that made the change (first request to `path` after the mark), by
 * the browser's clock: the time the other tabs are measured from.
 */
async function changedAt(page: Page, path: string): Promise<void> {
  await page.evaluate((p) => {
    const start = performance.getEntriesByName("sync-start").at(-1)!.startTime;
    const entry = (performance.getEntriesByType("resource") as PerformanceResourceTiming[]).find((e) => e.startTime > start && new URL(e.name).pathname === p)!;
    const w = window as unknown as { __stamps?: Record<string, number> };
    (w.__stamps ??= {}).a = performance.timeOrigin + entry.responseEnd;
  }, path);
}

const field = (page: Page, name: string, side: "server" | "client") => page.locator(`[data-field="${name}"] [data-testid="${side}-value"]`);

async function threeTabs(context: BrowserContext, login: string): Promise<[Page, Page, Page]> {
  const tabs = [await context.newPage(), await context.newPage(), await context.newPage()] as [Page, Page, Page];
  await signIn(tabs[0], login);
  for (const tab of tabs.slice(1)) {
    await tab.goto("/dashboard");
    await expect(tab.getByTestId("compare-summary")).toHaveText("Server and browser agree on every field.");
  }
  return tabs;
}

/** How long after A's change the other tabs showed it (printed, not asserted). */
async function report(label: string, a: Page, others: Array<[string, Page]>, names: string[]): Promise<void> {
  const start = await stampOf(a, "a");
  const parts: string[] = [];
  for (const [tab, page] of others) for (const n of names) parts.push(`${tab} ${n} +${Math.round((await stampOf(page, n)) - start)} ms`);
  console.log(`[session sync] ${label}: ${parts.join(", ")}`);
  test.info().annotations.push({ type: "propagation", description: `${label}: ${parts.join(", ")}` });
}

test("update() in one tab: the other tabs' client session and Server Components follow, without a request storm; sign-out signs every tab out", async ({ context }) => {
  const [a, b, c] = await threeTabs(context, "sync@example.com");
  await a.goto("/account");
  const tabs = { a: traffic(a), b: traffic(b), c: traffic(c) };

  for (const page of [b, c]) {
    await stamp(page, "client", '[data-field="claims.displayName"] [data-testid="client-value"]', "Tabs One");
    await stamp(page, "server", '[data-field="claims.displayName"] [data-testid="server-value"]', "Tabs One");
  }
  await a.getByLabel("New display name").fill("Tabs One");
  await markStart(a);
  // Counted from the click: the requests this change causes. A's page load reads the session once
  // it hydrates (and the other tabs follow that read), which on a slow machine lands after goto()
  // returns; the form only works once hydrated, so by the click those reads are already out.
  for (const t of Object.values(tabs)) t.take();
  await a.getByRole("button", { name: "Save" }).click();
  await expect(a.getByTestId("display-name-result")).toHaveText("Display name saved: Tabs One.");
  await changedAt(a, "/api/auth/session");
  for (const page of [b, c]) {
    await expect(field(page, "claims.displayName", "client")).toHaveText("Tabs One");
    await expect(field(page, "claims.displayName", "server")).toHaveText("Tabs One");
    await expect(page.getByTestId("compare-summary")).toHaveText("Server and browser agree on every field.");
  }
  await report("update()", a, [["B", b], ["C", c]], ["client", "server"]);

  // A few reads per tab for one change, not a loop: each tab reads once because next-auth told it
  // to and once because SessionSync did, and re-renders its server tree once.
  const first = { a: tabs.a.take(), b: tabs.b.take(), c: tabs.c.take() };
  console.log(`[session sync] requests for one update(): ${Object.entries(first).map(([tab, n]) => `${tab.toUpperCase()} ${n.session} session reads, ${n.rsc} server refreshes`).join("; ")}`);
  for (const [tab, n] of Object.entries(first)) {
    expect(n.session, `${tab}: session reads for one update`).toBeLessThanOrEqual(4);
    expect(n.rsc, `${tab}: server refreshes for one update`).toBeLessThanOrEqual(3);
  }

  // A second change: the counts stay per change (a loop would have kept counting in between).
  await a.getByLabel("New display name").fill("Tabs Two");
  await a.getByRole("button", { name: "Save" }).click();
  await expect(a.getByTestId("display-name-result")).toHaveText("Display name saved: Tabs Two.");
  for (const page of [b, c]) {
    await expect(field(page, "claims.displayName", "client")).toHaveText("Tabs Two");
    await expect(field(page, "claims.displayName", "server")).toHaveText("Tabs Two");
  }
  const second = { a: tabs.a.take(), b: tabs.b.take(), c: tabs.c.take() };
  for (const [tab, n] of Object.entries(second)) {
    expect(n.session, `${tab}: session reads for the second update`).toBeLessThanOrEqual(4);
    expect(n.rsc, `${tab}: server refreshes for the second update`).toBeLessThanOrEqual(3);
  }

  // Sign-out in A (here and at the provider) signs B and C out.
  await a.getByRole("button", { name: "Sign out" }).click();
  await a.getByRole("button", { name: "Yes, sign me out" }).click();
  await expect(a.getByRole("button", { name: "Sign in" })).toBeVisible();
  for (const page of [b, c]) {
    await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
    await expect(page.getByTestId("signed-in-as")).toHaveCount(0);
  }
  const out = { b: tabs.b.take(), c: tabs.c.take() };
  for (const [tab, n] of Object.entries(out)) expect(n.session, `${tab}: session reads for the sign-out`).toBeLessThanOrEqual(6);
});

test("a tenant switch and a server action's updateSession() reach every tab's Server Components", async ({ context }) => {
  const [a, b, c] = await threeTabs(context, "alice@example.com");
  await expect(a.getByTestId("current-tenant")).toHaveText("Acme Corp");

  for (const page of [b, c]) {
    await stamp(page, "server", '[data-testid="current-tenant"]', "Globex");
    await stamp(page, "client", '[data-field="claims.tenantRole"] [data-testid="client-value"]', "member");
  }
  await markStart(a);
  await a.getByTestId("tenant-switcher").selectOption({ label: "Globex" });
  await expect(a.getByTestId("tenant-switcher-result")).toContainText("Switched to Globex");
  await changedAt(a, "/api/auth/session");
  for (const page of [b, c]) {
    await expect(page.getByTestId("current-tenant")).toHaveText("Globex");
    await expect(page.getByTestId("tenant-role")).toHaveText("member");
    await expect(field(page, "claims.tenantRole", "client")).toHaveText("member");
  }
  await report("tenant switch", a, [["B", b], ["C", c]], ["client", "server"]);

  // The server writes the session (no update() in any browser): the other tabs still follow.
  await a.goto("/account");
  const left = String(Number(await a.getByTestId("credits").textContent()) - 1);
  for (const page of [b, c]) {
    await stamp(page, "credits-server", '[data-field="claims.credits"] [data-testid="server-value"]', left);
    await stamp(page, "credits-client", '[data-field="claims.credits"] [data-testid="client-value"]', left);
  }
  await markStart(a);
  await a.getByRole("button", { name: "Spend 1 credit" }).click();
  await expect(a.getByTestId("credits-result")).toHaveText(`Spent 1 credit: ${left} left.`);
  await changedAt(a, "/account");
  for (const page of [b, c]) {
    await expect(field(page, "claims.credits", "server")).toHaveText(left);
    await expect(field(page, "claims.credits", "client")).toHaveText(left);
  }
  await report("updateSession() in a server action", a, [["B", b], ["C", c]], ["credits-client", "credits-server"]);
});

test("a session revoked from another device: the first tab to notice signs the other tabs out", async ({ browser, context }) => {
  const [a, b, c] = await threeTabs(context, "revoked-tabs@example.com");
  const other = await browser.newContext();
  const device = await other.newPage();
  await signIn(device, "revoked-tabs@example.com");
  await device.goto("/sessions");
  device.once("dialog", (dialog) => void dialog.accept());
  await device.getByRole("button", { name: "Sign out all other sessions" }).click();
  await expect(device.getByTestId("revoke-others-result")).toHaveText("Signed out 1 other session.");
  await other.close();

  // Only A makes a request; B and C are told.
  await a.reload();
  for (const page of [a, b, c]) await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});
