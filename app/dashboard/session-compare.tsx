"use client";
import type { AppKit } from "@/auth.config";
import { useClaims } from "@/lib/claims-kit/next/client";
import { formatTime } from "@/app/ui/time";

/** The parts of a session a person compares: the user, every claim, recorded errors. */
export interface SessionView {
  user: Record<string, unknown>;
  claims: Record<string, unknown>;
  errors?: Record<string, string>;
  expires?: string;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "—";
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.length > 8) return `${value.length} items: ${value.slice(0, 5).map(String).join(", ")}, …`;
  return JSON.stringify(value);
}

/**
 * The session as the server rendered it (`auth()`) next to the one the browser holds
 * (`useSession()`), field by field, differences marked. Only what a session means is compared:
 * `update` (the verdict of the last update() with its nonce, the toolkit's answer channel) is
 * bookkeeping, not a claim; `expires` is computed anew by every read.
 */
export function SessionCompare({ server }: { server: SessionView }) {
  const { session, status } = useClaims<AppKit>();
  const client = session as unknown as SessionView | null;
  const loading = status === "loading";
  const rows: Array<[string, unknown, unknown]> = [];
  for (const key of ["id", "name", "email", "image"]) rows.push([`user.${key}`, server.user[key], client?.user?.[key]]);
  const claimNames = [...new Set([...Object.keys(server.claims), ...Object.keys(client?.claims ?? {})])];
  for (const name of claimNames) rows.push([`claims.${name}`, server.claims[name], client?.claims?.[name]]);
  rows.push(["errors", server.errors, client?.errors]);
  const differing = loading ? 0 : rows.filter(([, a, b]) => show(a) !== show(b)).length;

  return (
    <>
      <p role="status" aria-live="polite" data-testid="compare-summary" className={differing > 0 ? "error" : "ok"}>
        {loading ? "Loading the browser's session…" : status === "unauthenticated" ? "The browser holds no session." : differing === 0 ? "Server and browser agree on every field." : `${differing} field${differing === 1 ? "" : "s"} differ: the browser's copy is older or newer than this page's.`}
      </p>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Server and browser session compared">
        <table data-testid="session-compare" className="stack">
          <thead>
            <tr><th scope="col">Field</th><th scope="col">Server (<code>auth()</code>)</th><th scope="col">Browser (<code>useSession()</code>)</th><th scope="col">Same?</th></tr>
          </thead>
          <tbody>
            {rows.map(([field, a, b]) => {
              const same = loading ? "pending" : show(a) === show(b) ? "yes" : "no";
              return (
                <tr key={field} data-field={field} data-same={same} className={same === "no" ? "diff" : undefined}>
                  <th scope="row"><code>{field}</code></th>
                  <td data-label="Server" data-testid="server-value"><code>{show(a)}</code></td>
                  <td data-label="Browser" data-testid="client-value"><code>{loading ? "…" : show(b)}</code></td>
                  <td data-label="Same?">{same === "pending" ? "…" : same === "yes" ? "yes" : <strong>differs</strong>}</td>
                </tr>
              );
            })}
            <tr data-field="expires">
              <th scope="row"><code>expires</code></th>
              <td data-label="Server">{formatTime(server.expires) ?? "—"}</td>
              <td data-label="Browser">{loading ? "…" : formatTime(client?.expires) ?? "—"}</td>
              <td data-label="Same?" className="muted">not compared: each read sets it to now + the session&apos;s max age</td>
            </tr>
          </tbody>
        </table>
      </div>
    </>
  );
}
