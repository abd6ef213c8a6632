// Refreshes a due session before a server render (the refreshed cookie reaches this very request).
export { proxy } from "./auth";
export const config = { matcher: ["/((?!api/auth|_next/static|_next/image|favicon.ico).*)"] };
