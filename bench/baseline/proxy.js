// Auth.js's guide: `auth` as the proxy (formerly middleware) keeps the session alive on every page.
export { auth as proxy } from "./auth";

export const config = {
  matcher: ["/((?!api/auth|_next/static|_next/image|favicon.ico).*)"],
};
