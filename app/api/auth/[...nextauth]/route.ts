import { handlers } from "@/auth";
import { guardedHandlers } from "@/lib/claims-kit/next/server";

// The sign-in callback never sees the session cookie: Auth.js would otherwise link a new provider
// account to whoever that cookie belongs to, even a revoked one.
export const { GET, POST } = guardedHandlers(handlers);
