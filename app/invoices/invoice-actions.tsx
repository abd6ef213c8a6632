"use client";
import { useActionState, useId, useState, useTransition } from "react";
import type { Permission } from "@/app/_lib/access";
import type { Answer } from "@/app/ui/messages";
import { Result } from "@/app/ui/result";
import { createInvoice, deleteInvoice, exportReport, inviteMember } from "./actions";

export interface InvoiceRow {
  id: string;
  number: string;
  customer: string;
  amount: string;
  status: string;
  created: string;
}

const LABELS: Array<[Permission, string]> = [
  ["invoice:create", "Create invoice"],
  ["invoice:delete", "Delete invoice"],
  ["report:export", "Export report"],
  ["member:invite", "Invite member"],
];

const MISSING_ID = "missing-permissions";

/** Save text as a file in the browser. */
function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

/**
 * The invoice table and its actions. Buttons are enabled from the permissions this page was
 * rendered with (decoded on the server from the same claim, so the buttons, the permission list and
 * any role-change notice agree); each server action checks the permission again.
 */
export function InvoiceActions({ invoices, permissions }: { invoices: InvoiceRow[]; permissions: readonly Permission[] }) {
  const allowed = (p: Permission) => permissions.includes(p);
  const missing = LABELS.filter(([p]) => !allowed(p)).map(([p]) => p);
  const hint = (p: Permission) => (allowed(p) ? {} : { title: `Needs the ${p} permission`, "aria-describedby": MISSING_ID });

  const [created, create, creating] = useActionState<Answer, FormData>(createInvoice, null);
  const [invited, invite, inviting] = useActionState<Answer, FormData>(inviteMember, null);
  const [deleted, setDeleted] = useState<Answer>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [deletePending, startDelete] = useTransition();
  const [exported, setExported] = useState<Answer>(null);
  const [exporting, startExport] = useTransition();
  const ids = { customer: useId(), amount: useId(), email: useId() };

  return (
    <>
      {missing.length > 0 && (
        <p className="muted" id={MISSING_ID} data-testid="missing-permissions">
          Disabled: your role here lacks {missing.join(", ")}.
        </p>
      )}

      <h2>Invoices of this tenant</h2>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Invoices">
        <table data-testid="invoices" className="stack">
          <thead>
            <tr><th scope="col">Number</th><th scope="col">Customer</th><th scope="col" className="num">Amount</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col"><span className="sr-only">Actions</span></th></tr>
          </thead>
          <tbody>
            {invoices.length === 0 && (
              <tr><td colSpan={6} className="muted">No invoices.</td></tr>
            )}
            {invoices.map((i) => (
              <tr key={i.id} data-invoice={i.number}>
                <th scope="row" className="nowrap">{i.number}</th>
                <td data-label="Customer">{i.customer}</td>
                <td data-label="Amount" className="num">{i.amount}</td>
                <td data-label="Status"><span className={`badge status-${i.status}`}>{i.status}</span></td>
                <td data-label="Created">{i.created}</td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Delete invoice ${i.number}`}
                    disabled={!allowed("invoice:delete") || deletePending}
                    {...hint("invoice:delete")}
                    onClick={() => {
                      if (!window.confirm(`Delete invoice ${i.number} (${i.customer})? This cannot be undone.`)) return;
                      setDeleting(i.id);
                      startDelete(async () => setDeleted(await deleteInvoice(i.id)));
                    }}
                  >
                    {deletePending && deleting === i.id ? "Deleting…" : "Delete"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p><Result answer={deleted} pending={deletePending} pendingText="Deleting…" testId="delete-result" /></p>

      <section aria-labelledby="create-heading">
        <h2 id="create-heading">New invoice</h2>
        <form action={create} className="row">
          <label htmlFor={ids.customer}>Customer</label>
          <input id={ids.customer} name="customer" required maxLength={80} autoComplete="organization" disabled={!allowed("invoice:create")} />
          <label htmlFor={ids.amount}>Amount (EUR)</label>
          <input id={ids.amount} name="amount" required inputMode="decimal" pattern="\d{1,7}(\.\d{1,2})?" placeholder="120.50" size={10} disabled={!allowed("invoice:create")} />
          <button type="submit" disabled={!allowed("invoice:create") || creating} {...hint("invoice:create")}>
            {creating ? "Creating…" : "Create invoice"}
          </button>
          <Result answer={created} pending={creating} pendingText="Creating…" testId="create-result" />
        </form>
      </section>

      <section aria-labelledby="report-heading">
        <h2 id="report-heading">Report</h2>
        <div className="row">
          <button
            type="button"
            disabled={!allowed("report:export") || exporting}
            {...hint("report:export")}
            onClick={() =>
              startExport(async () => {
                const { answer, csv, filename } = await exportReport();
                if (csv && filename) download(filename, csv);
                setExported(answer);
              })
            }
          >
            {exporting ? "Exporting…" : "Export report"}
          </button>
          <Result answer={exported} pending={exporting} pendingText="Exporting…" testId="export-result" />
        </div>
      </section>

      <section aria-labelledby="invite-heading">
        <h2 id="invite-heading">Members</h2>
        <form action={invite} className="row">
          <label htmlFor={ids.email}>E-mail to invite</label>
          <input id={ids.email} name="email" type="email" required autoComplete="off" disabled={!allowed("member:invite")} />
          <button type="submit" disabled={!allowed("member:invite") || inviting} {...hint("member:invite")}>
            {inviting ? "Checking…" : "Invite member"}
          </button>
          <Result answer={invited} pending={inviting} pendingText="Checking…" testId="invite-result" />
        </form>
      </section>
    </>
  );
}
