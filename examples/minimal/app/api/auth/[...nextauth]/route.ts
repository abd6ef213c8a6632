import { guardedHandlers } from "claims-kit/next/server";
import { handlers } from "../../../../auth";

// Auth.js's handlers, with the sign-in callback never seeing an existing session cookie.
export const { GET, POST } = guardedHandlers(handlers);
