import { forbidden, redirect } from "next/navigation";
import { auth } from "@/auth";
import { can } from "@/lib/access";
import { prisma } from "@/lib/db";

export default async function AdminPage() {
  const session = await auth();
  if (!session) redirect("/");
  // Checked on the server from the signed claims: hiding the link is not the protection.
  if (!can(session, "tenant:admin") || !session.claims.tenantId) forbidden();
  const tenant = await prisma.tenant.findUnique({
    where: { id: session.claims.tenantId },
    include: { memberships: { include: { user: { select: { email: true, name: true } } }, orderBy: { createdAt: "asc" } } },
  });
  return (
    <>
      <h1>Admin: {tenant?.name}</h1>
      <table data-testid="members">
        <thead><tr><th>Member</th><th>Email</th><th>Role</th></tr></thead>
        <tbody>
          {tenant?.memberships.map((m) => (
            <tr key={m.id}><td>{m.user.name}</td><td>{m.user.email}</td><td>{m.role}</td></tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
