import { handlers } from "../../../../auth";

// Auth.js's handlers, guarded by the kit (session reads without a CSRF token minted for them).
export const { GET, POST } = handlers;
