import { requireSession } from "@/app/require-session";
import { access } from "@/app/_lib/access";
import { prisma } from "@/app/_lib/db";
import { formatTime } from "@/app/ui/time";
import { formatAmount } from "./format";
import { InvoiceActions } from "./invoice-actions";

export const metadata = { title: "Invoices" };

export default async function InvoicesPage() {
  const session = await requireSession("/invoices");
  const mine = access.permissions.filter((p) => access.can(session, p));
  const tenantId = session.claims.tenantId;
  const [tenant, invoices] = tenantId && access.can(session, "invoice:read")
    ? await Promise.all([
        prisma.tenant.findUnique({ where: { id: tenantId }, select: { name: true } }),
        prisma.invoice.findMany({ where: { tenantId }, orderBy: { number: "asc" } }),
      ])
    : [null, []];
  return (
    <>
      <h1>Invoices{tenant ? `: ${tenant.name}` : ""}</h1>
      <p className="intro">
        Compact permissions: <code>permissions({"{"} set: access, from: [&quot;tenantRole&quot;], tenantGrants {"}"})</code> in{" "}
        <code>auth.config.ts</code> derives what you may do here from your role in the current tenant (the catalog and the role map
        are in <code>app/_lib/access.ts</code>). This page asks <code>access.can(session, …)</code> for each button; every action asks again on the server.
      </p>
      <p>
        Your permissions in this tenant, decoded from the claim <code>{session.claims.permissions ?? "—"}</code>:{" "}
        <span data-testid="permissions">{mine.join(", ") || "none"}</span>
      </p>
      {!tenantId && <p className="notice" data-testid="no-tenant">You belong to no tenant, so there are no invoices to show: permissions here come from a tenant role.</p>}
      <InvoiceActions
        permissions={mine}
        invoices={invoices.map((i) => ({ id: i.id, number: i.number, customer: i.customer, amount: formatAmount(i.amountCents), status: i.status, created: formatTime(i.createdAt.toISOString()) ?? "" }))}
      />
    </>
  );
}
