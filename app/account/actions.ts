"use server";
import { auth, updateSession } from "@/auth";
import { prisma } from "@/app/_lib/db";

export type ActionResult = { ok: true } | { ok: false; code: string };

/**
 * Upgrade the signed-in user to "pro" in the database only. The session learns about it when the
 * client asks for a claims refresh right after (or, without that, on the next freshness reload).
 */
export async function upgradeTier(): Promise<ActionResult> {
  const session = await auth();
  if (!session) return { ok: false, code: "not_signed_in" };
  await prisma.user.update({ where: { id: session.user.id }, data: { tier: "pro" } });
  return { ok: true };
}

export async function downgradeTier(): Promise<ActionResult> {
  const session = await auth();
  if (!session) return { ok: false, code: "not_signed_in" };
  await prisma.user.update({ where: { id: session.user.id }, data: { tier: "free" } });
  return { ok: true };
}

/**
 * Spend one credit. The server decides the new value and writes it into the session: the client
 * never sends a number.
 */
export async function spendCredit(): Promise<{ ok: true; credits: number } | { ok: false; code: string }> {
  const session = await auth();
  if (!session) return { ok: false, code: "not_signed_in" };
  const spent = await prisma.user.updateMany({ where: { id: session.user.id, credits: { gt: 0 } }, data: { credits: { decrement: 1 } } });
  if (spent.count === 0) return { ok: false, code: "no_credits" };
  const { credits } = await prisma.user.findUniqueOrThrow({ where: { id: session.user.id }, select: { credits: true } });
  const saved = await updateSession({ credits });
  return saved.ok ? { ok: true, credits } : saved;
}
