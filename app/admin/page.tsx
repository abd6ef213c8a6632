import { requireSession } from "@/app/require-session";
import { forbidden } from "next/navigation";
import { can } from "@/app/_lib/access";
import { isStaff } from "@/app/_lib/claims-source";
import { prisma } from "@/app/_lib/db";
import { signOutEverywhere } from "./actions";
import { RoleForm } from "./role-form";
import { ConfirmForm } from "@/app/confirm-form";
import { ADMIN_PERMISSION } from "./required";

export const metadata = { title: "Admin" };

export default async function AdminPage() {
  const session = await requireSession("/admin");
  // Checked on the server from the signed claims: hiding the link is not the protection.
  if (!can(session, ADMIN_PERMISSION) || !session.claims.tenantId) forbidden();
  const tenant = await prisma.tenant.findUnique({
    where: { id: session.claims.tenantId },
    include: { memberships: { include: { user: { select: { id: true, email: true, name: true } } }, orderBy: { createdAt: "asc" } } },
  });
  // The same fresh check as the action: no buttons for staff rights that were taken away.
  const staff = await isStaff(session.user.id);
  return (
    <>
      <h1>Admin: {tenant?.name}</h1>
      <p className="intro">
        Claims that follow the database: a role saved here with &quot;apply now&quot; bumps the member&apos;s claims version
        (<code>kit.sessions.reloadClaims</code>), so their open sessions re-derive <code>tenantRole</code> and <code>permissions</code>{" "}
        (the <code>tenant</code> and <code>permissions</code> plugins in <code>auth.config.ts</code>) on their next request; without it, within{" "}
        <code>freshness.maxAge</code>.{staff && <> As staff you can also sign a member out everywhere: <code>kit.sessions.revokeAll</code> and the provider grant (<code>oauth.revokeUser</code>).</>}
      </p>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Members">
      <table data-testid="members" className="stack">
        <thead><tr><th scope="col">Member</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Change role</th>{staff && <th scope="col">Sessions</th>}</tr></thead>
        <tbody>
          {tenant?.memberships.map((m) => (
            <tr key={m.id} data-member={m.user.email ?? ""}>
              <th scope="row">{m.user.name}</th>
              <td data-label="Email">{m.user.email}</td>
              <td data-label="Role" data-testid="role">{m.role}</td>
              <td>
                {m.user.id !== session.user.id && <RoleForm membershipId={m.id} role={m.role} email={m.user.email ?? ""} />}
              </td>
              {staff && (
                <td>
                  {m.user.id !== session.user.id && (
                    <ConfirmForm action={signOutEverywhere.bind(null, m.user.id)} confirm={`Sign ${m.user.email} out of every session, and revoke their grant at the provider?`} label="Sign out everywhere" ariaLabel={`Sign out everywhere: ${m.user.email}`} testId="sign-out-everywhere-result" />
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      </div>
    </>
  );
}
