import { requireSession } from "@/app/require-session";
import { kit, sessionId } from "@/auth";
import { app } from "@/auth.config";
import { SecurityEvents } from "./security-events";
import { ConfirmForm } from "@/app/confirm-form";
import { revokeOtherSessions, revokeSession } from "./actions";
import { ago } from "@/app/ui/time";

export const metadata = { title: "Sessions" };

function device(userAgent: string | null): string {
  if (!userAgent) return "unknown device";
  const browser = /Edg\//.test(userAgent) ? "Edge" : /Chrome\//.test(userAgent) ? "Chrome" : /Firefox\//.test(userAgent) ? "Firefox" : /Safari\//.test(userAgent) ? "Safari" : "Browser";
  const os = /Windows/.test(userAgent) ? "Windows" : /Mac OS X/.test(userAgent) ? "macOS" : /Android/.test(userAgent) ? "Android" : /iPhone|iPad/.test(userAgent) ? "iOS" : /Linux/.test(userAgent) ? "Linux" : "unknown OS";
  return `${browser} on ${os}`;
}

/** How a session ended, in words (SessionInfo.endedBy). */
const ENDED_BY: Record<string, string> = { user: "you", admin: "an admin", provider: "the identity provider", replaced: "a new sign-in", expired: "expiry (unused too long)" };

export default async function SessionsPage() {
  const session = await requireSession("/sessions");
  const current = await sessionId();
  const sessions = await kit.sessions.list(session.user.id);
  const ended = await kit.sessions.listEnded(session.user.id, { limit: 10 });
  const events = await app.ssfEvents.list(session.user.id, { limit: 10 });
  return (
    <>
      <h1>Your sessions</h1>
      <p className="intro">
        The session registry: <code>sessions: prismaSessionRegistry(prisma)</code> in <code>auth.config.ts</code> records every
        sign-in. Signing a device out here revokes its session (<code>kit.sessions.revoke</code>): its next request finds it ended, and
        it lands on the home page with a notice.
      </p>
      <table data-testid="sessions" className="stack">
        <thead><tr><th>Device</th><th>Signed in</th><th>Last seen</th><th>Provider session</th><th></th></tr></thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.sid} data-current={s.sid === current ? "yes" : "no"}>
              <td data-label="Device">{device(s.userAgent)}{s.sid === current && <strong> (this browser)</strong>}</td>
              <td data-label="Signed in">{ago(s.createdAt)}</td>
              <td data-label="Last seen">{ago(s.lastSeenAt)}</td>
              <td data-label="Provider session" data-testid="provider-sid">{s.providerSid ? <code>{s.providerSid}</code> : <span className="muted">none</span>}</td>
              <td>
                {s.sid !== current && (
                  <ConfirmForm action={revokeSession.bind(null, s.sid)} confirm={`Sign out ${device(s.userAgent)}? It will have to sign in again.`} label="Sign out" testId="revoke-result" />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div style={{ marginTop: "1rem" }}>
        <ConfirmForm action={revokeOtherSessions} confirm="Sign out every other device? Only this browser stays signed in." label="Sign out all other sessions" disabled={sessions.length < 2} testId="revoke-others-result" />
      </div>
      <h2>Recently ended</h2>
      <p className="intro">
        Who ended each session: you (sign-out, or from this page), an admin, the identity provider (a sign-out there reaches this
        app as an OIDC back-channel logout token: <code>POST /api/auth/backchannel-logout</code>, or as a Shared Signals event), or a new sign-in in the same
        browser. The provider session is the id_token&apos;s <code>sid</code>, recorded at sign-in.
      </p>
      {ended.length === 0 ? <p className="muted">None yet.</p> : (
        <table data-testid="ended-sessions" className="stack">
          <thead><tr><th>Device</th><th>Signed in</th><th>Ended</th><th>Ended by</th><th>Provider session</th></tr></thead>
          <tbody>
            {ended.map((s) => (
              <tr key={s.sid}>
                <td data-label="Device">{device(s.userAgent)}</td>
                <td data-label="Signed in">{ago(s.createdAt)}</td>
                <td data-label="Ended">{s.revokedAt !== null ? ago(s.revokedAt) : ""}</td>
                <td data-label="Ended by" data-testid="ended-by">{ENDED_BY[s.endedBy ?? ""] ?? "ended"}</td>
                <td data-label="Provider session">{s.providerSid ? <code>{s.providerSid}</code> : <span className="muted">none</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <SecurityEvents events={events} receiving={app.ssf !== undefined} />
    </>
  );
}
