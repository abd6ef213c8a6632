import type { Metadata } from "next";
import { Suspense, type ReactNode } from "react";
import Link from "next/link";
import { auth } from "@/auth";
import { can } from "@/lib/access";
import { signInAction, signOutAction } from "./actions";
import { Providers } from "./providers";
import { SignInButton } from "./sign-in-button";
import { ReauthWatcher } from "./reauth-watcher";
import "./globals.css";

export const metadata: Metadata = { title: { default: "Claims kit reference app", template: "%s · Claims kit" } };

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await auth();
  return (
    <html lang="en">
      <body>
        <Providers>
          <header>
            <strong>Claims kit</strong>
            <nav>
              <Link href="/">Home</Link>
              {session && <Link href="/dashboard">Dashboard</Link>}
              {session && <Link href="/invoices">Invoices</Link>}
              {session && <Link href="/account">Account</Link>}
              {session && <Link href="/sessions">Sessions</Link>}
              {session && <Link href="/inspector">Token inspector</Link>}
              {session && <Link href="/api-demo">Provider API</Link>}
              {can(session, "tenant:admin") && <Link href="/admin">Admin</Link>}
            </nav>
            {session ? (
              <form action={signOutAction} className="row">
                <span className="muted" data-testid="signed-in-as">{session.user.email}</span>
                <button type="submit" className="secondary">Sign out</button>
              </form>
            ) : (
              <Suspense fallback={<form action={signInAction}><button type="submit">Sign in</button></form>}>
                <SignInButton />
              </Suspense>
            )}
          </header>
          <main>
            {session && <ReauthWatcher />}
            {children}
          </main>
        </Providers>
      </body>
    </html>
  );
}
