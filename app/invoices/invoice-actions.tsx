"use client";
import { useState } from "react";
import type { AppKit } from "@/auth.config";
import { can, type Permission } from "@/lib/access";
import { useClaims } from "@/lib/claims-kit/next/client";
import { invoiceAction } from "./actions";

const BUTTONS: Array<[Permission, string]> = [
  ["invoice:create", "Create invoice"],
  ["invoice:delete", "Delete invoice"],
  ["report:export", "Export report"],
  ["member:invite", "Invite member"],
];

export function InvoiceActions() {
  const { session } = useClaims<AppKit>();
  const [message, setMessage] = useState<string | null>(null);
  return (
    <>
      <div className="row">
        {BUTTONS.map(([permission, label]) => (
          <button key={permission} disabled={!can(session, permission)} title={can(session, permission) ? undefined : `Needs the ${permission} permission`} onClick={async () => setMessage((await invoiceAction(permission)).message)}>
            {label}
          </button>
        ))}
      </div>
      {BUTTONS.some(([permission]) => !can(session, permission)) && (
        <p className="muted" data-testid="missing-permissions">
          Disabled: your role here lacks {BUTTONS.filter(([permission]) => !can(session, permission)).map(([permission]) => permission).join(", ")}.
        </p>
      )}
      {message && <p data-testid="action-result">{message}</p>}
    </>
  );
}
