import type { JWT } from "@auth/core/jwt";
import type { JwtParams, KitLogger } from "@/lib/claims-kit";

/** A logger that keeps lines for assertions. */
export function memoryLogger(): KitLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/** A controllable clock (milliseconds). */
export function fakeClock(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
  let now = start;
  return { now: () => now, advance: (seconds: number) => (now += seconds * 1000) };
}

/** What Auth.js hands jwt() at sign-in with an adapter. */
export function signInParams(userId = "user-1") {
  const token: JWT = { sub: userId, name: "Alice", email: "alice@example.com", picture: null };
  return { token, user: { id: userId, email: "alice@example.com", name: "Alice" }, account: null, trigger: "signIn" as const };
}

export const sessionShell = (user = { name: "Alice", email: "alice@example.com", image: null }) => ({ user, expires: "2026-12-22T12:00:00.000Z" });

/** Run a kit's jwt() where the session must survive (a `null` would sign the user out). */
export async function jwt(kit: { callbacks: { jwt(p: JwtParams): Promise<JWT | null> } }, params: JwtParams): Promise<JWT> {
  const token = await kit.callbacks.jwt(params);
  if (!token) throw new Error("jwt() ended the session unexpectedly");
  return token;
}
