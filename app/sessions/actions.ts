"use server";
import { revalidatePath } from "next/cache";
import { auth, kit, sessionId } from "@/auth";

export async function revokeSession(sid: string): Promise<void> {
  const session = await auth();
  if (!session) return;
  // Only the user's own sessions: the id comes from the client.
  const mine = await kit.sessions.list(session.user.id);
  if (mine.some((s) => s.sid === sid)) await kit.sessions.revoke(sid);
  revalidatePath("/sessions");
}

export async function revokeOtherSessions(): Promise<void> {
  const session = await auth();
  if (!session) return;
  const current = await sessionId();
  if (!current) return; // without the current id, "others" would include this session
  await kit.sessions.revokeAll(session.user.id, { except: current });
  revalidatePath("/sessions");
}
