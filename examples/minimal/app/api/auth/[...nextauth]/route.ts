import { handlers } from "../../../../auth";

// Auth.js's handlers, guarded: a sign-in callback never sees an existing session cookie, and
// session reads are answered without the CSRF token Auth.js would mint for them.
export const { GET, POST } = handlers;
