// The whole request's cookie weight: every session chunk plus the app's other cookies, as the
// browser sends them in one `Cookie` header. Proxies refuse a request whose header is too big
// (nginx's large_client_header_buffers and CloudFront answer 431/494/400 near 8 KB), and the
// session cookie's own budget cannot see the other cookies. Framework-neutral: works on a header string.

/** The common proxy limit for one request header line, in bytes. */
export const DEFAULT_COOKIE_HEADER_LIMIT = 8192;

/** The request's `Cookie` header, measured (`inspectCookie().header`). No cookie values, only names and sizes. */
export interface CookieHeaderReport {
  /** Bytes of the header line as a proxy counts it: `Cookie: ` and the value. 0 without cookies. */
  bytes: number;
  /** The limit it is measured against. */
  limit: number;
  /** The session cookie's chunks (each `name=value`, with their `; ` separators). */
  sessionBytes: number;
  /** Everything else: the app's own cookies, CSRF and callback cookies, analytics… */
  otherBytes: number;
  /** Whether `bytes` exceeds `limit`. */
  over: boolean;
  /** Every cookie, largest first. */
  cookies: Array<{ name: string; bytes: number; session: boolean }>;
}

const PREFIX = "Cookie: ".length;
const utf8 = (text: string) => new TextEncoder().encode(text).length;

/**
 * Measure a request's `Cookie` header against a limit (default 8 KB), split into the session's
 * chunks and the rest. `isSession` says which names are the session cookie (e.g.
 * `isSessionCookieName(name, [cookieName])`).
 *
 * @example
 * ```ts
 * const report = measureCookieHeader(request.headers.get("cookie"), { isSession: (n) => n.startsWith("authjs.session-token") });
 * if (report.over) console.warn(cookieHeaderWarning(report));
 * ```
 */
export function measureCookieHeader(header: string | null | undefined, options: { limit?: number; isSession(name: string): boolean }): CookieHeaderReport {
  const limit = options.limit ?? DEFAULT_COOKIE_HEADER_LIMIT;
  const parts = (header ?? "").split(";").map((p) => p.trim()).filter((p) => p.length > 0);
  const cookies = parts.map((part) => {
    const eq = part.indexOf("=");
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    return { name, bytes: utf8(part), session: options.isSession(name) };
  });
  // Each cookie after the first is preceded by "; ": the separator is charged to that cookie's side.
  const share = (session: boolean) => cookies.reduce((sum, c, i) => (c.session === session ? sum + c.bytes + (i > 0 ? 2 : 0) : sum), 0);
  const value = cookies.reduce((sum, c, i) => sum + c.bytes + (i > 0 ? 2 : 0), 0);
  const bytes = value === 0 ? 0 : PREFIX + value;
  return {
    bytes,
    limit,
    sessionBytes: share(true),
    otherBytes: share(false),
    over: bytes > limit,
    cookies: [...cookies].sort((a, b) => b.bytes - a.bytes),
  };
}

/**
 * The warning for a header over its limit (names and sizes, never values), or null when within it.
 *
 * @example
 * ```ts
 * cookieHeaderWarning(report);
 * // "[claims-kit] Cookie header is 9214 bytes, over the 8192-byte limit: session 3901 bytes, other cookies 5313 bytes (largest: prefs 5002, …). Proxies answer 431 …"
 * ```
 */
export function cookieHeaderWarning(report: CookieHeaderReport): string | null {
  if (!report.over) return null;
  const largest = report.cookies.slice(0, 3).map((c) => `${c.name} ${c.bytes}`).join(", ");
  return `[claims-kit] Cookie header is ${report.bytes} bytes, over the ${report.limit}-byte limit: session ${report.sessionBytes} bytes, other cookies ${report.otherBytes} bytes (largest: ${largest}). Proxies answer 431/494 to such requests: shrink the session (sizeBudget) or the app's cookies.`;
}

const warned = new Set<string>();

/**
 * Log {@link cookieHeaderWarning} once per combination of cookie names and kilobyte of size, so a
 * development server warns when a request's header first crosses the limit without repeating it
 * on every render. Returns whether it logged.
 *
 * @example
 * ```ts
 * if (process.env.NODE_ENV !== "production") warnCookieHeaderOnce(report);
 * ```
 */
export function warnCookieHeaderOnce(report: CookieHeaderReport, log: (message: string) => void = console.warn): boolean {
  const message = cookieHeaderWarning(report);
  if (!message) return false;
  const signature = `${report.cookies.map((c) => c.name).sort().join(",")}@${Math.floor(report.bytes / 1024)}`;
  if (warned.has(signature)) return false;
  if (warned.size > 256) warned.clear();
  warned.add(signature);
  log(message);
  return true;
}
