import { guardedHandlers } from "claims-kit/next/server";
import { config, handlers } from "../../../../auth";

// Auth.js's handlers, with the sign-in callback never seeing an existing session cookie, and
// session reads answered without the CSRF token Auth.js would mint for them.
export const { GET, POST } = guardedHandlers(handlers, { config });
