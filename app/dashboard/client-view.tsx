"use client";
import type { AppKit } from "@/auth.config";
import { useClaims } from "@/lib/claims-kit/next/client";

export function ClientView() {
  const { session, status } = useClaims<AppKit>();
  if (status === "loading") return <p className="muted">loading…</p>;
  return <pre data-testid="client-session">{JSON.stringify(session, null, 2)}</pre>;
}
