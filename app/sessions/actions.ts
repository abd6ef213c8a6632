"use server";
import { revalidatePath } from "next/cache";
import type { ActionAnswer } from "@/app/confirm-form";
import { auth, kit, sessionId } from "@/auth";

export async function revokeSession(sid: string): Promise<ActionAnswer> {
  const session = await auth();
  if (!session) return { ok: false, message: "You are not signed in." };
  // Only the user's own sessions: the id comes from the client.
  const mine = await kit.sessions.list(session.user.id);
  if (!mine.some((s) => s.sid === sid)) return { ok: false, message: "That session is not one of yours." };
  await kit.sessions.revoke(sid);
  revalidatePath("/sessions");
  return { ok: true, message: "Signed out: that device is asked to sign in on its next request." };
}

export async function revokeOtherSessions(): Promise<ActionAnswer> {
  const session = await auth();
  if (!session) return { ok: false, message: "You are not signed in." };
  const current = await sessionId();
  // Without the current id, "others" would include this session.
  if (!current) return { ok: false, message: "This browser's session could not be identified; nothing was signed out." };
  const count = await kit.sessions.revokeAll(session.user.id, { except: current });
  revalidatePath("/sessions");
  return { ok: true, message: `Signed out ${count} other session${count === 1 ? "" : "s"}.` };
}
