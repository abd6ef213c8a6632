import type { SecurityEventRecord } from "@/lib/claims-kit/plugin";
import { ago } from "@/app/ui/time";

/** What each outcome means, for people. */
const OUTCOME: Record<string, (e: SecurityEventRecord) => string> = {
  sessions_ended: (e) => `ended ${e.sessions} session${e.sessions === 1 ? "" : "s"}`,
  claims_reloaded: () => "reloaded your claims in every session",
  step_up_required: () => "the next sensitive action asks you to sign in again",
  hook_called: (e) => `passed to the app's hook${e.detail ? `: ${e.detail}` : ""}`,
  logged: () => "recorded; changed nothing",
  no_match: () => "matched no session",
};

/**
 * The security events the identity provider's transmitter sent about this user (OpenID Shared
 * Signals: CAEP and RISC), and what each did. Only event ids, types and outcomes: never a token.
 */
export function SecurityEvents({ events, receiving }: { events: SecurityEventRecord[]; receiving: boolean }) {
  return (
    <>
      <h2>Security events from the provider</h2>
      <p className="intro">
        {receiving ? (
          <>The provider&apos;s Shared Signals transmitter pushes CAEP and RISC events to <code>POST /api/auth/ssf/events</code>; each is verified, taken once, and applied (a revoked session ends, a claims change reloads your claims, an assurance change asks for a new sign-in before a sensitive action).</>
        ) : (
          <>No transmitter is configured (<code>AUTH_SSF_ISSUER</code>): the endpoint answers 404.</>
        )}
      </p>
      {events.length === 0 ? <p className="muted">None yet.</p> : (
        <table data-testid="security-events" className="stack">
          <thead><tr><th>Event</th><th>Received</th><th>What it did</th><th>Event id</th></tr></thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-event={e.type}>
                <td data-label="Event"><code>{e.type}</code></td>
                <td data-label="Received">{ago(e.receivedAt)}</td>
                <td data-label="What it did" data-testid="event-outcome">{(OUTCOME[e.outcome] ?? (() => e.outcome))(e)}</td>
                <td data-label="Event id"><code>{e.jti.slice(0, 8)}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
