import Link from "next/link";
import { requireSession } from "@/app/require-session";
import { kit, readServerData, readToken } from "@/auth";
import { access } from "@/app/_lib/access";
import { env } from "@/app/_lib/env";
import { describeCode } from "@/app/ui/messages";
import { formatTime, fromNow } from "@/app/ui/time";
import { SessionCompare } from "./session-compare";
import { TenantSwitcher } from "./tenant-switcher";

export const metadata = { title: "Dashboard" };

type Visibility = "client" | "token" | "server";

// Auth.js's own claims: sub/name/email/picture reach the client as session.user.
const AUTH_JS_CLAIMS: Array<[string, Visibility, string]> = [
  ["sub", "client", "Auth.js: your user id, as session.user.id (protected)"],
  ["name", "client", "Auth.js: session.user.name, which carries the displayName claim (stored once, under this key)"],
  ["email", "client", "Auth.js: session.user.email"],
  ["picture", "client", "Auth.js: session.user.image"],
  ["iss", "token", "the kit: who issued the token (protected)"],
  ["iat", "token", "Auth.js: issued at (protected)"],
  ["exp", "token", "Auth.js: expires (protected)"],
  ["jti", "token", "Auth.js: the token's id (protected)"],
];

const TIME_CLAIMS = new Set(["iat", "exp"]);

// Where the session itself lives: the encrypted cookie (jwt strategy), or the kit's side of the
// session's row (database strategy, the cookie an opaque session token).
const HOME = env.AUTH_SESSION_STRATEGY === "database" ? "in the session's database row" : "in the encrypted cookie";
const LEGEND: Array<[Visibility, string]> = [
  ["client", `${HOME} and in the session the browser reads (useSession()).`],
  ["token", `${HOME} only: server code reads it (readToken()), the browser never sees it.`],
  ["server", "in the database, per session, apart from the claims: the session holds only its id (readServerData())."],
];

function show(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

export default async function Dashboard() {
  const session = await requireSession("/dashboard");
  const [token, serverData] = await Promise.all([readToken(), readServerData()]);
  const tokenRecord = (token ?? {}) as Record<string, unknown>;
  const tenants = serverData.tenants ?? [];
  const tenantName = (id: unknown) => tenants.find((t) => t.id === id)?.name;
  const permissions = access.permissions.filter((p) => access.can(session, p));

  /** A claim's value as a person reads it. */
  function readable(name: string, visibility: Visibility): string {
    if (visibility === "token") return tokenRecord[name] === undefined ? "—" : "(token only: never rendered)";
    const value = visibility === "server" ? (serverData as Record<string, unknown>)[name] : session.claims[name as keyof typeof session.claims];
    if (name === "permissions" && typeof value === "string") return `${value} = ${permissions.join(", ") || "none"}`;
    if (name === "tenantId" && typeof value === "string") return `${tenantName(value) ?? "?"} (${value})`;
    if (name === "tenants" && Array.isArray(value)) return tenants.map((t) => `${t.name} (${t.role})`).join(", ") || "none";
    if (name === "groups" && Array.isArray(value)) return value.length > 5 ? `${value.length} groups: ${value.slice(0, 5).join(", ")}, …` : value.join(", ") || "none";
    return show(value);
  }

  return (
    <>
      <h1>Dashboard</h1>
      <p className="intro">
        Every claim the toolkit composed into your session, where it is kept and which plugin set it. The plugins are the{" "}
        <code>plugins</code> list of <code>makeKit()</code> in <code>auth.config.ts</code>: <code>roles</code>, <code>tenant</code>,{" "}
        <code>permissions</code>, <code>appClaims</code> and <code>oauthRefresh</code>, in the order they run.
      </p>
      <div className="row">
        <span>
          Tenant: <strong data-testid="current-tenant">{tenantName(session.claims.tenantId) ?? "none"}</strong>
          {" "}as <strong data-testid="tenant-role">{session.claims.tenantRole ?? "—"}</strong>
        </span>
        <TenantSwitcher tenants={tenants.map(({ id, name }) => ({ id, name }))} current={session.claims.tenantId} />
      </div>
      {session.errors && (
        <ul className="notice error" data-testid="claim-errors">
          {Object.entries(session.errors).map(([plugin, code]) => (
            <li key={plugin}>
              <strong>{plugin}</strong>: {describeCode(code)} <span className="code">(code <code>{code}</code>)</span>
            </li>
          ))}
        </ul>
      )}

      <h2>Claims</h2>
      <dl className="legend" aria-label="Where a claim is kept">
        {LEGEND.map(([visibility, text]) => (
          <div key={visibility}>
            <dt><span className={`badge ${visibility}`}>{visibility}</span></dt>
            <dd>{text}</dd>
          </div>
        ))}
      </dl>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Claims">
        <table data-testid="claims-table" className="stack">
          <thead>
            <tr><th scope="col">Claim</th><th scope="col">Kept</th><th scope="col">Set by</th><th scope="col">Value</th></tr>
          </thead>
          <tbody>
            {[...kit.claims].map(([name, { plugin, visibility }]) => (
              <tr key={name} data-claim={name}>
                <th scope="row"><code>{name}</code></th>
                <td data-label="Kept"><span className={`badge ${visibility}`}>{visibility}</span></td>
                <td data-label="Set by">{plugin} plugin</td>
                <td data-label="Value" data-testid="claim-value">{readable(name, visibility)}</td>
              </tr>
            ))}
            {AUTH_JS_CLAIMS.map(([name, visibility, note]) => {
              const value = name === "name" ? session.user.name : tokenRecord[name];
              return (
                <tr key={name} data-claim={name}>
                  <th scope="row"><code>{name}</code></th>
                  <td data-label="Kept"><span className={`badge ${visibility}`}>{visibility}</span></td>
                  <td data-label="Set by">{note}</td>
                  <td data-label="Value" data-testid="claim-value">
                    {TIME_CLAIMS.has(name) && typeof value === "number" ? (
                      <time dateTime={new Date(value * 1000).toISOString()}>{formatTime(value)} ({fromNow(value)})</time>
                    ) : (
                      show(value)
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className="muted">
        Not a claim: the session also carries <code>_k</code>, the toolkit&apos;s own bookkeeping (session id, claims version, recorded
        errors, the last update&apos;s verdict). The <Link href="/inspector">token inspector</Link> shows it.
      </p>

      <h2>Your session on the server and in the browser</h2>
      <p className="intro">
        The same session, read twice: by this page on the server and by the browser. They differ only while one of them holds an
        older copy, e.g. right after a change made elsewhere.
      </p>
      <SessionCompare
        server={{
          user: { ...session.user },
          claims: { ...session.claims },
          ...(session.errors ? { errors: { ...session.errors } } : {}),
          expires: session.expires,
        }}
      />
    </>
  );
}
