// Issue #16 (items 2 and 3), the parts that run without a browser: the session version tabs compare,
// the Cookie header budget and its warning, and the proxy's hand-over of a refreshed cookie to a
// server action (one Set-Cookie per cookie on the action's response).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encode } from "@auth/core/jwt";
import { NextRequest } from "next/server";
import { claimsKit } from "@/lib/claims-kit";
import { cookieHeaderWarning, DEFAULT_COOKIE_HEADER_LIMIT, measureCookieHeader, warnCookieHeaderOnce } from "@/lib/claims-kit/next/internal/cookie-header";
import { refreshingProxy } from "@/lib/claims-kit/next/internal/proxy";
import { SIGNED_OUT_VERSION, sessionVersion } from "@/lib/claims-kit/next/internal/session-version";

describe("sessionVersion", () => {
  const session = { user: { id: "u1", name: "Alice", email: "a@example.com" }, claims: { tier: "pro", credits: 3, groups: ["a", "b"] }, expires: "2026-12-01T00:00:00.000Z" };

  test("the same claims give the same version, whatever the key order, expiry or last update", () => {
    const reordered = { expires: "2027-01-01T00:00:00.000Z", claims: { groups: ["a", "b"], credits: 3, tier: "pro" }, user: { email: "a@example.com", name: "Alice", id: "u1" }, update: { intent: "refreshClaims", nonce: "n1" } };
    assert.equal(sessionVersion(reordered), sessionVersion(session));
    assert.match(sessionVersion(session), /^s[0-9a-f]{16}$/);
  });

  test("any claim, user field or error changes it; no session is 'out'", () => {
    const base = sessionVersion(session);
    assert.notEqual(sessionVersion({ ...session, claims: { ...session.claims, credits: 2 } }), base);
    assert.notEqual(sessionVersion({ ...session, claims: { ...session.claims, groups: ["b", "a"] } }), base);
    assert.notEqual(sessionVersion({ ...session, user: { ...session.user, name: "Al" } }), base);
    assert.notEqual(sessionVersion({ ...session, errors: { oauth: "invalid_grant" } }), base);
    assert.equal(sessionVersion(null), SIGNED_OUT_VERSION);
    assert.equal(sessionVersion(undefined), SIGNED_OUT_VERSION);
  });

  test("it names a state without showing it: no claim value appears in it", () => {
    const version = sessionVersion({ user: { id: "u1" }, claims: { tenantId: "acme", role: "staff" } });
    for (const value of ["acme", "staff", "u1"]) assert.equal(version.includes(value), false);
  });
});

describe("the Cookie header budget", () => {
  const isSession = (name: string) => name.startsWith("authjs.session-token");

  test("counts the header line as a proxy does, split into session chunks and other cookies", () => {
    const header = `authjs.session-token.0=${"a".repeat(3000)}; prefs=${"p".repeat(5000)}; authjs.session-token.1=${"b".repeat(900)}; authjs.csrf-token=xyz`;
    const report = measureCookieHeader(header, { isSession });
    assert.equal(report.bytes, "Cookie: ".length + header.length);
    assert.equal(report.limit, DEFAULT_COOKIE_HEADER_LIMIT);
    assert.equal(report.sessionBytes + report.otherBytes, header.length);
    assert.equal(report.sessionBytes, "authjs.session-token.0=".length + 3000 + 2 + "authjs.session-token.1=".length + 900);
    assert.equal(report.over, true);
    assert.deepEqual(report.cookies.map((c) => [c.name, c.session]), [["prefs", false], ["authjs.session-token.0", true], ["authjs.session-token.1", true], ["authjs.csrf-token", false]]);
    // Multi-byte characters count as bytes, not characters.
    assert.equal(measureCookieHeader("n=é", { isSession }).bytes, "Cookie: n=".length + 2);
  });

  test("the limit is an option; no cookies is 0 bytes and within any limit", () => {
    assert.equal(measureCookieHeader("a=1; b=2", { isSession, limit: 10 }).over, true);
    assert.equal(measureCookieHeader("a=1; b=2", { isSession, limit: 16 }).over, false);
    assert.deepEqual(measureCookieHeader(null, { isSession }), { bytes: 0, limit: DEFAULT_COOKIE_HEADER_LIMIT, sessionBytes: 0, otherBytes: 0, over: false, cookies: [] });
  });

  test("the dev warning names cookies and sizes, never values, and is said once per size", () => {
    const secret = "s3cr3t-value-".repeat(700);
    const report = measureCookieHeader(`authjs.session-token=${secret}; theme=dark`, { isSession, limit: 4096 });
    const message = cookieHeaderWarning(report)!;
    assert.match(message, /^\[claims-kit\] Cookie header is \d+ bytes, over the 4096-byte limit: session \d+ bytes, other cookies 12 bytes/);
    assert.match(message, /largest: authjs\.session-token \d+, theme 10/);
    assert.equal(message.includes("s3cr3t"), false);
    assert.equal(message.includes("dark"), false);
    assert.equal(cookieHeaderWarning(measureCookieHeader("theme=dark", { isSession })), null);

    const lines: string[] = [];
    assert.equal(warnCookieHeaderOnce(report, (m) => lines.push(m)), true);
    assert.equal(warnCookieHeaderOnce(report, (m) => lines.push(m)), false, "same cookies, same size: said already");
    const bigger = measureCookieHeader(`authjs.session-token=${secret}${"x".repeat(2048)}; theme=dark`, { isSession, limit: 4096 });
    assert.equal(warnCookieHeaderOnce(bigger, (m) => lines.push(m)), true, "grew by kilobytes: said again");
    assert.equal(warnCookieHeaderOnce(measureCookieHeader("theme=dark", { isSession }), (m) => lines.push(m)), false);
    assert.equal(lines.length, 2);
  });
});

describe("refreshingProxy and server actions", () => {
  const secret = "unit-test-secret-0123456789abcdef0123";
  const kit = claimsKit({ plugins: [] });
  const refreshed = ["authjs.session-token=NEW; Path=/; Expires=Wed, 01 Dec 2027 00:00:00 GMT; HttpOnly; SameSite=Lax"];
  const proxy = refreshingProxy({
    kit,
    cookie: () => ({ secret }),
    isDue: () => true,
    handler: async () => new Response("{}", { headers: refreshed.map((c): [string, string] => ["set-cookie", c]) }),
  });
  const request = async (headers: Record<string, string>) => {
    const value = await encode({ token: { sub: "u1" }, secret, salt: "authjs.session-token" });
    return new NextRequest("http://localhost/account", { method: "POST", headers: { cookie: `authjs.session-token=${value}; theme=dark`, ...headers } });
  };

  test("a page request gets the refreshed cookie as a Set-Cookie header, and forwards it to the render", async () => {
    const response = await proxy(await request({}));
    assert.deepEqual(response.headers.getSetCookie(), refreshed);
    assert.match(response.headers.get("x-middleware-request-cookie") ?? "", /authjs\.session-token=NEW; theme=dark/);
  });

  test("a server action gets it through Next's cookie store, so the action's own write replaces it (one Set-Cookie)", async () => {
    const response = await proxy(await request({ "next-action": "7f00aa" }));
    // On today's code the proxy set it here as well, and an action calling updateSession() sent a second one.
    assert.deepEqual(response.headers.getSetCookie(), []);
    const handed = response.headers.get("x-middleware-set-cookie") ?? "";
    assert.match(handed, /^authjs\.session-token=NEW; Path=\/; Expires=Wed, 01 Dec 2027 00:00:00 GMT; HttpOnly; SameSite=lax$/i);
    assert.match(response.headers.get("x-middleware-request-cookie") ?? "", /authjs\.session-token=NEW/);
  });
});
