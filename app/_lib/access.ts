// The reference app's permission catalog and role map. Imported by server and client code alike
// (it holds no secrets and no database access), so `can()` works everywhere.
import { definePermissions } from "@/lib/claims-kit/access";

export const TENANT_ROLES = ["owner", "admin", "member", "viewer"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const access = definePermissions({
  // Append only: the order is the bit order in tokens. Editing `roles` below is safe: the change
  // alters the catalog's fingerprint, so every token re-derives its permissions on its next request.
  permissions: ["invoice:read", "invoice:create", "invoice:delete", "member:invite", "tenant:admin", "report:export"],
  roles: {
    owner: "*",
    admin: ["invoice:read", "invoice:create", "invoice:delete", "member:invite", "tenant:admin", "report:export"],
    member: ["invoice:read", "invoice:create"],
    viewer: ["invoice:read"],
  },
});

export type Permission = (typeof access.permissions)[number];
export const can = access.can;
