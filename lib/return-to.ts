// Where to send the user after sign-in: only a path on this site (never another origin, never a
// protocol-relative "//host" or "/\host" that browsers treat as one).

/** The same-origin path to return to, or null when `value` is anything else. */
export function safeReturnTo(value: unknown): string | null {
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
