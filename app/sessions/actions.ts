"use server";
import { revalidatePath } from "next/cache";
import type { ActionAnswer } from "@/app/confirm-form";
import { auth, kit, requireRecentAuth, sessionId } from "@/auth";
import { RECENT_AUTH_MAX_AGE } from "@/auth.config";

export async function revokeSession(sid: string): Promise<ActionAnswer> {
  const session = await auth();
  if (!session) return { ok: false, message: "You are not signed in." };
  // Only the user's own sessions: the id comes from the client.
  const mine = await kit.sessions.list(session.user.id);
  if (!mine.some((s) => s.sid === sid)) return { ok: false, message: "That session is not one of yours." };
  await kit.sessions.revoke(sid, { by: "user" });
  revalidatePath("/sessions");
  return { ok: true, message: "Signed out: that device is asked to sign in on its next request." };
}

export async function revokeOtherSessions(): Promise<ActionAnswer> {
  const session = await auth();
  if (!session) return { ok: false, message: "You are not signed in." };
  const current = await sessionId();
  // Without the current id, "others" would include this session.
  if (!current) return { ok: false, message: "This browser's session could not be identified; nothing was signed out." };
  // Signing out every other device needs a sign-in within the last 5 minutes (else a step-up
  // through the provider, back to this page): a stolen cookie alone cannot lock the owner out.
  const recent = await requireRecentAuth({ maxAge: RECENT_AUTH_MAX_AGE, returnTo: "/sessions", redirect: true });
  if (!recent.ok) return { ok: false, message: "The provider did not confirm a recent sign-in; nothing was signed out." };
  const count = await kit.sessions.revokeAll(session.user.id, { except: current, by: "user" });
  revalidatePath("/sessions");
  return { ok: true, message: `Signed out ${count} other session${count === 1 ? "" : "s"}.` };
}
