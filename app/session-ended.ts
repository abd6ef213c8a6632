import { cookies } from "next/headers";

// Auth.js's session cookie (this app keeps its default name), `__Secure-` on https, chunks `.0`, `.1`…
const SESSION_COOKIE = /^(__Secure-)?authjs\.session-token(\.\d+)?$/;

/**
 * Whether this request still carries a session cookie although no session came out of it: the
 * session was ended elsewhere (revoked from another device or by an administrator, or signed out
 * everywhere). Auth.js clears such a cookie on the browser's next session read.
 */
export async function carriesEndedSession(): Promise<boolean> {
  return (await cookies()).getAll().some((c) => SESSION_COOKIE.test(c.name));
}
