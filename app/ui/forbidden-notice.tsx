import Link from "next/link";
import { auth, readServerData } from "@/auth";
import { access, type Permission } from "@/app/_lib/access";
import { SwitchTenantButton } from "@/app/dashboard/tenant-switcher";

/**
 * The 403 answer: which permission is missing, in which tenant and role, and, when another of the
 * user's tenants gives that permission with their role there, a button to switch to it.
 */
export async function ForbiddenNotice({ permission, what }: { permission?: Permission; what: string }) {
  const session = await auth();
  const tenants = session ? ((await readServerData()).tenants ?? []) : [];
  const current = tenants.find((t) => t.id === session?.claims.tenantId);
  const role = session?.claims.tenantRole;
  const elsewhere = permission ? tenants.filter((t) => t.id !== current?.id && access.forRole(t.role).includes(permission)) : [];
  return (
    <>
      <h1>403: not allowed</h1>
      <p data-testid="forbidden">
        {what} needs {permission ? <>the <code>{permission}</code> permission</> : "a permission"}, which you do not have{" "}
        {current ? <>in <strong>{current.name}</strong>{role ? <> as <strong>{role}</strong></> : null}</> : "outside a tenant"}.
      </p>
      {elsewhere.length > 0 ? (
        <section aria-labelledby="forbidden-switch" data-testid="forbidden-switch">
          <h2 id="forbidden-switch">Switch tenant</h2>
          <p>Your role in {elsewhere.length === 1 ? "this tenant" : "these tenants"} includes it:</p>
          {elsewhere.map((t) => <SwitchTenantButton key={t.id} tenant={{ id: t.id, name: t.name }} role={t.role} />)}
        </section>
      ) : (
        <p>
          {current ? <>Ask an admin or owner of {current.name} for it, or go back to the <Link href="/dashboard">dashboard</Link>.</> : <>Go back to the <Link href="/dashboard">dashboard</Link>.</>}
        </p>
      )}
    </>
  );
}
