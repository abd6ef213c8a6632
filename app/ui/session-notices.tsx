"use client";
import { useSession } from "next-auth/react";
import { useEffect, useRef, useState } from "react";

/** What the notices compare between two renders of the same user's session. */
export interface AccessView {
  role?: string;
  tenantId?: string;
  tenantRole?: string;
  permissions: string[];
}

let signingOut = false;

/** Called by the sign-out form: the session ending next is the user's own doing. */
export function markSigningOut(): void {
  signingOut = true;
}

function parse(raw: string | null): AccessView | null {
  try {
    const value = raw ? (JSON.parse(raw) as AccessView) : null;
    return value && Array.isArray(value.permissions) ? value : null;
  } catch {
    return null;
  }
}

/** The change between two views of the user's access, in words; null when nothing a person notices changed. */
export function describeAccessChange(before: AccessView, now: AccessView): { text: string; demotion: boolean } | null {
  const lines: string[] = [];
  let demotion = false;
  if (before.role !== now.role) lines.push(`Your role in this app changed from ${before.role ?? "none"} to ${now.role ?? "none"}.`);
  // Another tenant is the user's own switch (or a removal, which lands in their default tenant):
  // only a change within the same tenant is news about their role.
  if (before.tenantId === now.tenantId) {
    const lost = before.permissions.filter((p) => !now.permissions.includes(p));
    const gained = now.permissions.filter((p) => !before.permissions.includes(p));
    if (before.tenantRole !== now.tenantRole) lines.push(`Your role in this tenant changed from ${before.tenantRole ?? "none"} to ${now.tenantRole ?? "none"}.`);
    if (lost.length > 0) lines.push(`You can no longer use: ${lost.join(", ")}.`);
    if (gained.length > 0) lines.push(`You can now also use: ${gained.join(", ")}.`);
    demotion = lost.length > 0;
  }
  return lines.length > 0 ? { text: lines.join(" "), demotion } : null;
}

/**
 * Tells the user what changed under them: a role change that arrived with this page (compared with
 * what this tab saw last), and a session that ended elsewhere while the page was open (the browser's
 * session read comes back empty): then home, which says so.
 */
export function SessionNotices({ userId, access }: { userId: string; access: AccessView }) {
  const [notice, setNotice] = useState<{ text: string; demotion: boolean } | null>(null);
  const serialized = JSON.stringify(access);
  useEffect(() => {
    const key = `claims-kit-demo:access:${userId}`;
    const before = parse(window.sessionStorage.getItem(key));
    window.sessionStorage.setItem(key, serialized);
    const change = before ? describeAccessChange(before, JSON.parse(serialized) as AccessView) : null;
    if (change) setNotice(change);
  }, [userId, serialized]);

  const { status } = useSession();
  const wasSignedIn = useRef(false);
  useEffect(() => {
    if (status === "authenticated") wasSignedIn.current = true;
    if (status === "unauthenticated" && wasSignedIn.current && !signingOut) {
      const back = `${window.location.pathname}${window.location.search}`;
      window.location.assign(`/?ended=1&callbackUrl=${encodeURIComponent(back)}`);
    }
  }, [status]);

  return (
    <div role="status" aria-live="polite" data-testid="access-notice">
      {notice && (
        <p className={`notice${notice.demotion ? " warn" : ""}`}>
          <strong>{notice.demotion ? "Your access was reduced." : "Your access changed."}</strong> {notice.text}{" "}
          <button type="button" className="link" onClick={() => setNotice(null)}>Dismiss</button>
        </p>
      )}
    </div>
  );
}
