import { requireSession } from "@/app/require-session";
import { forbidden } from "next/navigation";
import { can } from "@/lib/access";
import { isStaff } from "@/lib/claims-source";
import { prisma } from "@/lib/db";
import { signOutEverywhere } from "./actions";
import { RoleForm } from "./role-form";
import { ConfirmForm } from "@/app/confirm-form";

export const metadata = { title: "Admin" };

export default async function AdminPage() {
  const session = await requireSession("/admin");
  // Checked on the server from the signed claims: hiding the link is not the protection.
  if (!can(session, "tenant:admin") || !session.claims.tenantId) forbidden();
  const tenant = await prisma.tenant.findUnique({
    where: { id: session.claims.tenantId },
    include: { memberships: { include: { user: { select: { id: true, email: true, name: true } } }, orderBy: { createdAt: "asc" } } },
  });
  // The same fresh check as the action: no buttons for staff rights that were taken away.
  const staff = await isStaff(session.user.id);
  return (
    <>
      <h1>Admin: {tenant?.name}</h1>
      <table data-testid="members">
        <thead><tr><th>Member</th><th>Email</th><th>Role</th><th>Change role</th>{staff && <th>Sessions</th>}</tr></thead>
        <tbody>
          {tenant?.memberships.map((m) => (
            <tr key={m.id} data-member={m.user.email ?? ""}>
              <td>{m.user.name}</td>
              <td>{m.user.email}</td>
              <td data-testid="role">{m.role}</td>
              <td>
                {m.user.id !== session.user.id && <RoleForm membershipId={m.id} role={m.role} email={m.user.email ?? ""} />}
              </td>
              {staff && (
                <td>
                  {m.user.id !== session.user.id && (
                    <ConfirmForm action={signOutEverywhere.bind(null, m.user.id)} confirm={`Sign ${m.user.email} out of every session, and revoke their grant at the provider?`} label="Sign out everywhere" testId="sign-out-everywhere-result" />
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
