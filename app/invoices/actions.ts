"use server";
import { auth } from "@/auth";
import { can, type Permission } from "@/lib/access";

/** Every action re-checks the permission on the server: a disabled button is only a hint. */
export async function invoiceAction(permission: Permission): Promise<{ ok: boolean; message: string }> {
  const session = await auth();
  if (!can(session, permission)) return { ok: false, message: `forbidden: ${permission}` };
  return { ok: true, message: `done: ${permission}` };
}
