import type { Permission } from "@/app/_lib/access";

/** What the admin page needs in the current tenant (checked by the page, named by its 403). */
export const ADMIN_PERMISSION: Permission = "tenant:admin";
