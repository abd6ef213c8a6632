// Deliberately empty. Turbopack looks for an instrumentation file up to the workspace root when
// the app has none, and would otherwise pick up the reference app's (which loads its whole auth
// configuration and Prisma at start-up): the baseline must stay plain Auth.js.
export function register() {}
