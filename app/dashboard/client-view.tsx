"use client";
import type { AppIntents, AppSession } from "@/auth.config";
import { useClaims } from "@/lib/claims-kit/next/client";

export function ClientView() {
  const { session, status } = useClaims<AppSession, AppIntents>();
  if (status === "loading") return <p className="muted">loading…</p>;
  return <pre data-testid="client-session">{JSON.stringify(session, null, 2)}</pre>;
}
