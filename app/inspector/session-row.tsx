import type { ReactNode } from "react";
import { kit, type requireRecentAuth } from "@/auth";
import { RECENT_AUTH_MAX_AGE } from "@/auth.config";

/** The token as the kit keeps it (`readToken()`): the cookie's, or a database session's row. */
type Token = Record<string, unknown> | null;

/** When and how the user authenticated at the provider (protected claims), and the step-up to a second factor. */
export function AuthenticationSection({ token, mfa }: { token: Token; mfa: Awaited<ReturnType<typeof requireRecentAuth>> }) {
  const authTime = typeof token?.auth_time === "number" ? token.auth_time : null;
  const amr = Array.isArray(token?.amr) ? token.amr.join(", ") : null;
  return (
    <>
      <h2>Authentication</h2>
      <p className="intro">
        From the id_token at sign-in, kept as protected claims (no refresh or update changes them): sensitive actions call{" "}
        <code>requireRecentAuth({"{"} maxAge: {RECENT_AUTH_MAX_AGE} {"}"})</code>, which steps up through the provider with <code>max_age</code> /{" "}
        <code>acr_values</code> when they are older or weaker.
      </p>
      <dl data-testid="authentication">
        <dt>auth_time</dt>
        <dd data-testid="auth-time">{authTime ? <>{new Date(authTime * 1000).toISOString()} ({Math.max(0, Math.round(Date.now() / 1000 - authTime))} s ago)</> : <span className="muted">not sent by the provider</span>}</dd>
        <dt>acr</dt>
        <dd data-testid="acr">{typeof token?.acr === "string" ? <code>{token.acr}</code> : <span className="muted">none</span>}</dd>
        <dt>amr</dt>
        <dd data-testid="amr">{amr ? <code>{amr}</code> : <span className="muted">none</span>}</dd>
      </dl>
      <p data-testid="mfa-status">
        {mfa.ok ? <>A second factor within the last {RECENT_AUTH_MAX_AGE / 60} minutes: yes.</> : <>
          Not a second-factor sign-in within the last {RECENT_AUTH_MAX_AGE / 60} minutes (<code>{mfa.code}</code>).{" "}
          <a href={mfa.stepUpUrl} data-testid="step-up">Step up: sign in again with a one-time code</a>
        </>}
      </p>
    </>
  );
}

/** A readable value for the table: token-only claims are named, never shown. */
function shown(name: string, value: unknown): string {
  if (kit.claims.get(name)?.visibility === "token") return "(server only)";
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 77)}…` : json;
}

/**
 * Under Auth.js's database strategy (AUTH_SESSION_STRATEGY=database): the cookie holds Auth.js's
 * opaque session token; the claims are the kit's side of the session, kept with its row.
 */
export function SessionRow({ token, authentication }: { token: Token; authentication: ReactNode }) {
  const claims = Object.entries(token ?? {}).filter(([name]) => name !== "_k");
  return (
    <>
      <h1>Token inspector</h1>
      <p className="intro" data-testid="session-row-intro">
        This app runs Auth.js&apos;s <strong>database strategy</strong> (<code>AUTH_SESSION_STRATEGY=database</code>): the session cookie
        holds only Auth.js&apos;s opaque session token, and the claims below live with the session&apos;s row in the database (the
        kit&apos;s <code>UserSession.state</code>), served from memory on reads. No cookie size budget applies; a revocation ends the row at
        once.
      </p>
      {authentication}
      <table data-testid="session-row">
        <thead><tr><th>Claim</th><th>Visibility</th><th>Value</th></tr></thead>
        <tbody>
          {claims.map(([name, value]) => (
            <tr key={name} data-claim={name}>
              <td><code>{name}</code></td>
              <td><span className={`badge ${kit.claims.get(name)?.visibility ?? "token"}`}>{kit.claims.get(name)?.visibility ?? "token"}</span></td>
              <td><code>{shown(name, value)}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
