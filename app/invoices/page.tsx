import { requireSession } from "@/app/require-session";
import { access } from "@/lib/access";
import { InvoiceActions } from "./invoice-actions";

export const metadata = { title: "Invoices" };

export default async function InvoicesPage() {
  const session = await requireSession("/invoices");
  const mine = access.permissions.filter((p) => access.can(session, p));
  return (
    <>
      <h1>Invoices</h1>
      <p>
        Your permissions in this tenant (decoded from the compact claim <code>{session.claims.permissions ?? "—"}</code>):{" "}
        <span data-testid="permissions">{mine.join(", ") || "none"}</span>
      </p>
      <InvoiceActions />
    </>
  );
}
