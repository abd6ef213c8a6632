/**
 * Client-safe entry: permission catalogs and checks, with nothing server-side, for client
 * components as well as server code.
 *
 * @packageDocumentation
 * @module claims-kit/access
 */
export { definePermissions, type HasPermissions, type PermissionSet } from "./plugins/permissions";
