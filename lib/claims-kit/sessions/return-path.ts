// Where to send a browser back to: only a path on this site. Framework-neutral, no I/O.

/**
 * The same-origin path to return to, or null (never another origin, never `//host` or `/\host`).
 *
 * @example
 * ```ts
 * sameOriginPath("/admin?tab=2"); // "/admin?tab=2"
 * sameOriginPath("https://evil.example/"); // null
 * ```
 */
export function sameOriginPath(value: unknown): string | null {
  if (typeof value !== "string" || value.length > 512 || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  const base = "http://return-to.invalid";
  try {
    const url = new URL(value, base);
    const path = `${url.pathname}${url.search}`;
    // Checked again after parsing: dot segments can collapse "/.//host" into "//host".
    return url.origin === base && !path.startsWith("//") && !path.startsWith("/\\") ? path : null;
  } catch {
    return null;
  }
}
