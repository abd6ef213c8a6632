import { requireSession } from "@/app/require-session";
import { kit, readServerData, readToken } from "@/auth";
import { ClientView } from "./client-view";
import { TenantSwitcher } from "./tenant-switcher";

export const metadata = { title: "Dashboard" };

// Auth.js's own claims: sub/name/email/picture reach the client as session.user.
const AUTH_JS_CLAIMS: Array<[string, "client" | "token", string]> = [
  ["sub", "client", "Auth.js: the database user id, session.user.id (protected)"],
  ["name", "client", "Auth.js default, session.user.name"],
  ["email", "client", "Auth.js default, session.user.email"],
  ["picture", "client", "Auth.js default, session.user.image"],
  ["iss", "token", "issuer, set by the kit (protected)"],
  ["iat", "token", "issued at (protected)"],
  ["exp", "token", "expires (protected)"],
  ["jti", "token", "token id (protected)"],
];

function show(value: unknown): string {
  return value === undefined ? "—" : JSON.stringify(value);
}

export default async function Dashboard() {
  const session = await requireSession("/dashboard");
  const [token, serverData] = await Promise.all([readToken(), readServerData()]);
  const tokenRecord = (token ?? {}) as Record<string, unknown>;
  const serverRecord = serverData as Record<string, unknown>;
  const tenants = serverData.tenants ?? [];

  return (
    <>
      <h1>Dashboard</h1>
      <div className="row">
        <span>
          Tenant: <strong data-testid="current-tenant">{tenants.find((t) => t.id === session.claims.tenantId)?.name ?? "none"}</strong>
          {" "}as <strong data-testid="tenant-role">{session.claims.tenantRole ?? "—"}</strong>
        </span>
        <TenantSwitcher tenants={tenants.map(({ id, name }) => ({ id, name }))} current={session.claims.tenantId} />
      </div>
      {session.errors && <p className="error" data-testid="claim-errors">Claim errors: {JSON.stringify(session.errors)}</p>}

      <h2>Claims as the server sees them (<code>auth()</code>, <code>readToken()</code>, <code>readServerData()</code>)</h2>
      <table data-testid="claims-table">
        <thead>
          <tr><th>Claim</th><th>Visibility</th><th>Owner</th><th>Value</th></tr>
        </thead>
        <tbody>
          {[...kit.claims].map(([name, { plugin, visibility }]) => (
            <tr key={name} data-claim={name}>
              <td><code>{name}</code></td>
              <td><span className={`badge ${visibility}`}>{visibility}</span></td>
              <td>{plugin}</td>
              <td>
                <code>
                  {visibility === "client" && show(session.claims[name as keyof typeof session.claims])}
                  {visibility === "server" && show(serverRecord[name])}
                  {visibility === "token" && (tokenRecord[name] === undefined ? "—" : "(token only: never rendered)")}
                </code>
              </td>
            </tr>
          ))}
          {AUTH_JS_CLAIMS.map(([name, visibility, note]) => (
            <tr key={name} data-claim={name}>
              <td><code>{name}</code></td>
              <td><span className={`badge ${visibility}`}>{visibility}</span></td>
              <td className="muted">{note}</td>
              <td><code>{show(tokenRecord[name])}</code></td>
            </tr>
          ))}
          <tr data-claim="_k">
            <td><code>_k</code></td>
            <td><span className="badge token">token</span></td>
            <td className="muted">toolkit bookkeeping (protected)</td>
            <td><code>{tokenRecord._k ? "(session id, errors, last update)" : "—"}</code></td>
          </tr>
        </tbody>
      </table>

      <div className="grid">
        <section>
          <h2>Session on the server (<code>auth()</code>)</h2>
          <pre data-testid="server-session">{JSON.stringify(session, null, 2)}</pre>
        </section>
        <section>
          <h2>Session on the client (<code>useSession()</code>)</h2>
          <ClientView />
        </section>
      </div>
    </>
  );
}
