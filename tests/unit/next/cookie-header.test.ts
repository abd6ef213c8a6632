// The Cookie header budget and its dev warning (next/internal/cookie-header.ts), issue #16 item 2.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cookieHeaderWarning, DEFAULT_COOKIE_HEADER_LIMIT, measureCookieHeader, warnCookieHeaderOnce } from "@/lib/claims-kit/next/internal/cookie-header";

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
