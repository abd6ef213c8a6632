"use client";
import { SessionProvider } from "next-auth/react";
import type { ReactNode } from "react";
import { SessionSync } from "@/lib/claims-kit/next/client";

/**
 * The session for client components, kept in step across the browser's tabs: `sessionVersion` is
 * the server's view (`sessionVersion(await auth())` in the root layout), so a change a server
 * action made, or a session a render found ended, reaches every tab too.
 */
export function Providers({ children, sessionVersion }: { children: ReactNode; sessionVersion?: string }) {
  return (
    <SessionProvider>
      <SessionSync version={sessionVersion} />
      {children}
    </SessionProvider>
  );
}
