// Sessions that follow the provider's security events (OpenID Shared Signals), in Chromium against
// next start and the bundled provider's transmitter page: a CAEP session-revoked ends the chosen
// session at once, a token-claims-change makes every session reload its claims, and the Sessions
// page lists what each event did; forged, replayed, misaddressed and expired events are refused by
// the app's route with their codes. The latency from the push to the session ending is reported.
import path from "node:path";
import Database from "better-sqlite3";
import { expect, test, type Page } from "@playwright/test";
import { signedInBrowsers, signIn } from "./helpers";

const ISSUER = `http://127.0.0.1:${process.env.E2E_OIDC_PORT ?? 9100}`;
const E2E_DB = path.join(process.cwd(), ".data", "e2e.db");

/** Send one event from the transmitter page, as a person would; returns the delivery's answer. */
async function send(page: Page, choice: { event: string; sid?: string; login?: string; subject: string }): Promise<string> {
  await page.goto(`${ISSUER}/ssf`);
  // Each select's label holds its options too: select by name.
  await page.locator('select[name="event"]').selectOption(choice.event);
  if (choice.sid) await page.locator('select[name="sid"]').selectOption(choice.sid);
  if (choice.login) await page.locator('input[name="login"]').fill(choice.login);
  await page.locator('select[name="subject"]').selectOption(choice.subject);
  await page.getByRole("button", { name: "Send event" }).click();
  return (await page.getByTestId("ssf-notice").textContent()) ?? "";
}

test("session-revoked from the transmitter ends that session on its next request; the other device lists the event", async ({ browser }, testInfo) => {
  const { pages: [phone, laptop], close } = await signedInBrowsers(browser, "una@example.com", "una@example.com");
  await phone.goto("/sessions");
  const sid = (await phone.locator('tr[data-current="yes"] [data-testid="provider-sid"] code').textContent())!;

  expect(await send(laptop, { event: "session-revoked", sid, subject: "session" })).toMatch(/^session-revoked \(session .+\): 202$/);
  const { deliveries } = (await (await laptop.request.get(`${ISSUER}/__dev/ssf`)).json()) as { deliveries: Array<{ event: string; status: number; ms: number }> };
  const push = deliveries.at(-1)!;
  expect([push.event, push.status]).toEqual(["session-revoked", 202]);
  const latency = `SSF push -> app session ended: ${push.ms} ms (SET verified, jti stored, session revoked, event recorded, 202 answered)`;
  testInfo.annotations.push({ type: "latency", description: latency });
  console.log(latency);

  await phone.goto("/dashboard");
  await expect(phone.getByRole("button", { name: "Sign in" })).toBeVisible();
  await laptop.goto("/sessions");
  await expect(laptop.getByTestId("signed-in-as")).toHaveText("una@example.com");
  await expect(laptop.getByTestId("security-events").locator('tr[data-event="session-revoked"]').getByTestId("event-outcome")).toHaveText("ended 1 session");
  await expect(laptop.getByTestId("ended-sessions").locator("tbody tr").filter({ hasText: sid }).getByTestId("ended-by")).toHaveText("the identity provider");
  await close();
});

test("token-claims-change from the transmitter makes the session reload its claims at once", async ({ page }) => {
  await signIn(page, "vera@example.com");
  const name = page.locator('tr[data-claim="displayName"] [data-testid="claim-value"]');
  await page.goto("/dashboard");
  await expect(name).toHaveText("Vera");
  // The directory changes behind the app's back; claims are re-read only every CLAIMS_MAX_AGE (300 s).
  const db = new Database(E2E_DB);
  db.prepare(`UPDATE "User" SET "name" = ? WHERE "email" = ?`).run("Vera Renamed", "vera@example.com");
  db.close();
  await page.reload();
  await expect(name).toHaveText("Vera");

  const transmitter = await page.context().newPage();
  expect(await send(transmitter, { event: "token-claims-change", login: "vera@example.com", subject: "iss_sub" })).toMatch(/: 202$/);
  await page.reload();
  await expect(name).toHaveText("Vera Renamed");
  await page.goto("/sessions");
  await expect(page.getByTestId("security-events").locator('tr[data-event="token-claims-change"]').getByTestId("event-outcome")).toHaveText("reloaded your claims in every session");
});

test("forged, replayed, misaddressed and expired events are refused by the app with their RFC 8935 errors and change nothing", async ({ page }) => {
  await signIn(page, "wanda@example.com");
  type Delivery = { status: number; err?: string; code?: string };
  const send = async (fault?: string): Promise<Delivery> => {
    const response = await page.request.post(`${ISSUER}/ssf/send`, { data: { event: "credential-change", login: "wanda@example.com", subject: "iss_sub", ...(fault ? { fault } : {}) } });
    expect(response.status()).toBe(200);
    return (await response.json()) as Delivery;
  };
  // A real SET first (of an event that changes nothing here), so that there is one to replay.
  const valid = await page.request.post(`${ISSUER}/ssf/send`, { data: { event: "session-established", login: "wanda@example.com", subject: "iss_sub" } });
  expect(((await valid.json()) as Delivery).status).toBe(202);
  const refused = { forged: await send("forged"), replay: await send("replay"), misaddressed: await send("misaddressed"), expired: await send("expired") };
  expect(refused).toEqual({
    forged: expect.objectContaining({ status: 400, err: "invalid_key", code: "invalid_signature" }),
    replay: expect.objectContaining({ status: 400, err: "invalid_request", code: "replayed" }),
    misaddressed: expect.objectContaining({ status: 400, err: "invalid_audience", code: "invalid_audience" }),
    expired: expect.objectContaining({ status: 400, err: "invalid_request", code: "expired" }),
  });
  await page.goto("/sessions");
  await expect(page.getByTestId("signed-in-as")).toHaveText("wanda@example.com");
  await expect(page.getByTestId("security-events").locator("tbody tr")).toHaveCount(1);
  await expect(page.getByTestId("security-events").locator('tr[data-event="session-established"]').getByTestId("event-outcome")).toHaveText("recorded; changed nothing");
});
