// The permission catalog: plain data that client and server code both import (claims-kit/access
// holds no server code). Append only: the order is the bit order in the permissions claim.
import { definePermissions } from "claims-kit/access";

export const access = definePermissions({
  permissions: ["notes:read", "notes:write", "members:manage"],
  roles: { staff: "*", user: ["notes:read"] },
});
