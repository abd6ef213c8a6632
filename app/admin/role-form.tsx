"use client";
import { useActionState } from "react";
import { TENANT_ROLES } from "@/app/_lib/access";
import { changeRole, type RoleChangeResult } from "./actions";
import { Result } from "@/app/ui/result";

/**
 * A member's role, changed in place: the answer (done, or why not) is shown next to the control.
 * The menu is keyed by the saved role, so after a change it shows that role (a form reset would
 * otherwise bring back the one it was first rendered with, and a second Save would revert).
 */
export function RoleForm({ membershipId, role, email }: { membershipId: string; role: string; email: string }) {
  const [result, action, pending] = useActionState<RoleChangeResult | null, FormData>(changeRole.bind(null, membershipId), null);
  return (
    <form action={action} className="row">
      <select key={role} name="role" defaultValue={role} aria-label={`Role of ${email}`}>
        {TENANT_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
      </select>
      <label><input type="checkbox" name="applyNow" defaultChecked aria-label={`Apply now to ${email}`} /> apply now</label>
      <button type="submit" className="secondary" disabled={pending} aria-label={`Save ${email}’s role`}>{pending ? "Saving…" : "Save"}</button>
      <Result answer={result} pending={pending} pendingText="Saving…" testId="role-result" />
    </form>
  );
}
