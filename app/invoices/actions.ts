"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { auth } from "@/auth";
import { can, type Permission } from "@/app/_lib/access";
import { prisma } from "@/app/_lib/db";
import type { Answer } from "@/app/ui/messages";
import { formatAmount } from "./format";

/**
 * The session's tenant when it grants `permission`. Every action re-checks on the server: a
 * disabled button is only a hint, and the invoice must belong to the session's current tenant.
 */
async function authorize(permission: Permission): Promise<{ ok: true; tenantId: string } | { ok: false; answer: Answer }> {
  const session = await auth();
  if (!session) return { ok: false, answer: { ok: false, message: "You are not signed in any more: sign in again.", code: "not_signed_in" } };
  if (!can(session, permission)) return { ok: false, answer: { ok: false, message: `Your role in this tenant lacks the ${permission} permission.`, code: "forbidden" } };
  const tenantId = session.claims.tenantId;
  if (!tenantId) return { ok: false, answer: { ok: false, message: "You are in no tenant, so there are no invoices here.", code: "no_tenant" } };
  return { ok: true, tenantId };
}

const NewInvoice = z.object({
  customer: z.string().trim().min(1, "Customer must be 1-80 characters.").max(80, "Customer must be 1-80 characters.")
    .regex(/^[^\p{Cc}]*$/u, "Customer cannot contain control characters."),
  amount: z.string().trim().regex(/^\d{1,7}(\.\d{1,2})?$/, "Amount must be a number with at most two decimals, e.g. 120.50.")
    .transform((s) => Math.round(Number(s) * 100))
    .refine((cents) => cents >= 1 && cents <= 100_000_000, "Amount must be between 0.01 and 1,000,000.00."),
});

/** A new draft invoice in the current tenant, numbered after the last one. */
export async function createInvoice(_previous: Answer, form: FormData): Promise<Answer> {
  const access = await authorize("invoice:create");
  if (!access.ok) return access.answer;
  const input = NewInvoice.safeParse({ customer: form.get("customer") ?? "", amount: form.get("amount") ?? "" });
  if (!input.success) return { ok: false, message: input.error.issues[0]?.message ?? "That invoice is not valid.", code: "invalid_input" };
  // Two creates at once may pick the same number: the unique index refuses one, which tries again.
  for (let attempt = 0; attempt < 3; attempt++) {
    const numbers = await prisma.invoice.findMany({ where: { tenantId: access.tenantId }, select: { number: true } });
    const last = Math.max(0, ...numbers.map((n) => Number(/(\d+)$/.exec(n.number)?.[1] ?? 0)));
    const number = `INV-${String(last + 1).padStart(4, "0")}`;
    try {
      await prisma.invoice.create({ data: { tenantId: access.tenantId, number, customer: input.data.customer, amountCents: input.data.amount } });
      revalidatePath("/invoices");
      return { ok: true, message: `Created invoice ${number} for ${input.data.customer}, ${formatAmount(input.data.amount)}.` };
    } catch (err) {
      if ((err as { code?: string }).code !== "P2002") throw err;
    }
  }
  return { ok: false, message: "Another invoice was created at the same moment; try again.", code: "changed_meanwhile" };
}

/** Delete one invoice of the current tenant (an id from another tenant matches nothing). */
export async function deleteInvoice(id: string): Promise<Answer> {
  const access = await authorize("invoice:delete");
  if (!access.ok) return access.answer;
  const invoice = await prisma.invoice.findFirst({ where: { id, tenantId: access.tenantId }, select: { number: true, customer: true } });
  const { count } = await prisma.invoice.deleteMany({ where: { id, tenantId: access.tenantId } });
  revalidatePath("/invoices");
  if (count === 0 || !invoice) return { ok: false, message: "That invoice is not in this tenant (any more).", code: "not_found" };
  return { ok: true, message: `Deleted invoice ${invoice.number} (${invoice.customer}).` };
}

/** A spreadsheet cell: quoted, and never read as a formula. */
function cell(value: string | number): string {
  const text = String(value);
  return `"${(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text).replace(/"/g, '""')}"`;
}

/** The current tenant's invoices as CSV, for the browser to save. */
export async function exportReport(): Promise<{ answer: Answer; csv?: string; filename?: string }> {
  const access = await authorize("report:export");
  if (!access.ok) return { answer: access.answer };
  const [tenant, invoices] = await Promise.all([
    prisma.tenant.findUnique({ where: { id: access.tenantId }, select: { slug: true, name: true } }),
    prisma.invoice.findMany({ where: { tenantId: access.tenantId }, orderBy: { number: "asc" } }),
  ]);
  const lines = [["number", "customer", "amount", "status", "created"].map(cell).join(",")];
  for (const i of invoices) lines.push([i.number, i.customer, (i.amountCents / 100).toFixed(2), i.status, i.createdAt.toISOString()].map(cell).join(","));
  const total = invoices.reduce((sum, i) => sum + i.amountCents, 0);
  const filename = `${tenant?.slug ?? "tenant"}-invoices.csv`;
  return {
    answer: { ok: true, message: `Exported ${invoices.length} invoice${invoices.length === 1 ? "" : "s"} of ${tenant?.name ?? "this tenant"} (total ${formatAmount(total)}) as ${filename}.` },
    csv: `${lines.join("\r\n")}\r\n`,
    filename,
  };
}

const Invite = z.object({ email: z.email("Enter an e-mail address, e.g. name@example.com.").max(254, "That e-mail address is too long.") });

/** Checks member:invite on the server. The demo sends no e-mail and stores no invitation. */
export async function inviteMember(_previous: Answer, form: FormData): Promise<Answer> {
  const access = await authorize("member:invite");
  if (!access.ok) return access.answer;
  const input = Invite.safeParse({ email: String(form.get("email") ?? "").trim() });
  if (!input.success) return { ok: false, message: input.error.issues[0]?.message ?? "That e-mail address is not valid.", code: "invalid_input" };
  return { ok: true, message: `Allowed: the server checked member:invite for this tenant. This demo sends no e-mail, so ${input.data.email} gets no invitation.` };
}
