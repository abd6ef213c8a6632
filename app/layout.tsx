import type { Metadata } from "next";
import { Suspense, type ReactNode } from "react";
import { auth } from "@/auth";
import { sessionVersion } from "@/lib/claims-kit/next/server";
import { access, can } from "@/app/_lib/access";
import { signInAction } from "./actions";
import { Providers } from "./providers";
import { SignInButton } from "./sign-in-button";
import { ReauthWatcher } from "./reauth-watcher";
import { NavLinks } from "./ui/nav-links";
import { SessionNotices } from "./ui/session-notices";
import { SignOutButton } from "./ui/sign-out-button";
import "./globals.css";

export const metadata: Metadata = { title: { default: "Claims kit reference app", template: "%s · Claims kit" } };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  const links: Array<[string, string]> = [["/", "Home"]];
  if (session) {
    links.push(["/dashboard", "Dashboard"], ["/invoices", "Invoices"], ["/account", "Account"], ["/sessions", "Sessions"], ["/inspector", "Token inspector"], ["/api-demo", "Provider API"]);
    if (can(session, "tenant:admin")) links.push(["/admin", "Admin"]);
  }
  return (
    <html lang="en">
      <body>
        <Providers sessionVersion={sessionVersion(session)}>
          <a className="skip-link" href="#main">Skip to content</a>
          <header>
            <strong className="brand">Claims kit</strong>
            <NavLinks links={links} />
            {session ? (
              <SignOutButton email={session.user.email} />
            ) : (
              <Suspense fallback={<form action={signInAction}><button type="submit">Sign in</button></form>}>
                <SignInButton />
              </Suspense>
            )}
          </header>
          <main id="main" tabIndex={-1}>
            {session && (
              <SessionNotices
                userId={session.user.id}
                access={{ role: session.claims.role, tenantId: session.claims.tenantId, tenantRole: session.claims.tenantRole, permissions: access.permissions.filter((p) => can(session, p)) }}
              />
            )}
            {session && <ReauthWatcher />}
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
