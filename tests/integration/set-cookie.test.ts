// The session endpoint sets each cookie at most once per response (upstream next-auth #11370: a
// second, different session cookie in the same response, from middleware running auth() on it).
// The app's route handler (guardedHandlers) and Auth.js, with the kit's callbacks: sign-in, reads,
// updates, a token refresh, a claims reload and sign-out. The proxy's variant (a refresh on a
// server action that writes the session too) is tests/e2e/single-set-cookie.spec.ts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fakeClock, startHarness, type Harness } from "./harness";

let h: Harness;
const clock = fakeClock();
before(async () => {
  h = await startHarness({ clock: clock.now, claimsMaxAge: 60 });
});
after(async () => {
  await h.close();
});

/** The cookie names a response sets, in order. */
const setNames = (response: Response) => response.headers.getSetCookie().map((c) => c.slice(0, c.indexOf("=")).trim());

function once(label: string, response: Response, expectSession: boolean): void {
  const names = setNames(response);
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], `${label}: a cookie set twice (${names.join(", ")})`);
  assert.equal(names.filter((n) => n.startsWith("authjs.session-token")).length, expectSession ? 1 : 0, `${label}: ${names.join(", ")}`);
}

test("every session-endpoint response sets the session cookie once: reads, updates, refresh, reload, sign-out", async () => {
  const b = h.browser();
  await b.signIn("alice+ttl5@example.com");
  once("GET", await b.fetch("/api/auth/session"), true);

  const post = async (data?: unknown) => {
    const csrfToken = await b.csrf();
    return b.fetch("/api/auth/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(data === undefined ? { csrfToken } : { csrfToken, data }) });
  };
  once("update intent", await post({ intent: "setDisplayName", input: { displayName: "Once" } }), true);
  once("refused update", await post({ intent: "setDisplayName", input: { displayName: "" } }), true);
  once("bare update()", await post(), true);

  // The access token expires (a refresh at the provider) and the claims are due for a reload.
  clock.advance(120);
  const grants = h.provider.stats().refreshSuccess;
  const refreshed = await b.fetch("/api/auth/session");
  once("refresh and reload", refreshed, true);
  assert.equal(h.provider.stats().refreshSuccess, grants + 1, "the read refreshed the access token");
  assert.equal(((await refreshed.json()) as { claims: { displayName?: string } }).claims.displayName, "Once");

  const csrfToken = await b.csrf();
  const out = await b.fetch("/api/auth/signout", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ csrfToken }) });
  once("sign-out", out, true);
  assert.equal(b.jar.get("authjs.session-token"), undefined);
});
