import { redirect } from "next/navigation";
import { auth, inspectCookie, kit, readToken, requireRecentAuth } from "@/auth";
import { COOKIE_BUDGET, RECENT_AUTH_MAX_AGE } from "@/auth.config";
import { AuthenticationSection, SessionRow } from "./session-row";

export const metadata = { title: "Token inspector" };

const AUTH_JS: Record<string, string> = { sub: "client", name: "client", email: "client", picture: "client", iss: "token", _k: "token", auth_time: "token", acr: "token", amr: "token" };

function percent(part: number, whole: number): number {
  return Math.min(100, Math.round((part / whole) * 100));
}

/** The signed-in user's token as the browser stores it: claims, visibility, bytes, budget. */
export default async function InspectorPage() {
  const session = await auth();
  if (!session) redirect("/?callbackUrl=%2Finspector");
  const inspection = await inspectCookie();
  // What the id_token said about the authentication, kept as protected claims at sign-in.
  const token = await readToken();
  const mfa = await requireRecentAuth({ maxAge: RECENT_AUTH_MAX_AGE, acr: "mfa", returnTo: "/inspector" });
  // Under the database strategy the cookie is an opaque session token: the session row instead.
  if (!inspection) return <SessionRow token={token} authentication={<AuthenticationSection token={token} mfa={mfa} />} />;
  const { measure, carriedBytes: actualBytes, dropped, moved, header } = inspection;
  const rows = [...inspection.claims, { name: "(toolkit bookkeeping)", key: "_k", bytes: inspection.bookkeepingBytes }].sort((a, b) => b.bytes - a.bytes);
  const largest = Math.max(...rows.map((r) => r.bytes), 1);
  const over = measure.headerBytes > COOKIE_BUDGET.maxBytes || measure.cookies.length > COOKIE_BUDGET.maxChunks;

  return (
    <>
      <h1>Token inspector</h1>
      <p className="intro">
        The size budget: <code>budget: sizeBudget({"{"} ...COOKIE_BUDGET, claims: {"{"} groups: {"{"} move: 1 {"}"}, … {"}"} {"}"})</code> and the
        short <code>keys</code> in <code>auth.config.ts</code> keep the session cookie in one chunk under 2 KB: big claims move to
        server-side data, optional ones are dropped first.
      </p>
      {session.errors && (
        <p className="error" data-testid="session-errors">
          Recorded on the token: {Object.entries(session.errors).map(([id, code]) => <code key={id}>{id}: {code} </code>)}
          {session.errors.oauth === "no_refresh_token" && <>(the provider gave no refresh token: sign in again when the access token expires)</>}
        </p>
      )}
      <p>
        The session cookie{measure.cookies.length > 1 ? "s" : ""} as your browser stores {measure.cookies.length > 1 ? "them" : "it"}:{" "}
        {measure.cookies.map((c) => <code key={c.name}>{c.name} ({c.valueBytes} characters) </code>)}
        with <code>{measure.attributes}</code>.
      </p>
      <div className="row">
        <strong data-testid="cookie-bytes">{measure.headerBytes}</strong> of {COOKIE_BUDGET.maxBytes} bytes,{" "}
        <span data-testid="cookie-chunks">{measure.cookies.length}</span> of {COOKIE_BUDGET.maxChunks} chunk(s)
        <span className={over ? "error" : "ok"} data-testid="budget-status">{over ? "over budget" : "within budget"}</span>
      </div>
      <div className={`bar wide${over ? " over" : ""}`} data-testid="budget-bar" title={`${measure.headerBytes}/${COOKIE_BUDGET.maxBytes}`}>
        <span style={{ width: `${percent(measure.headerBytes, COOKIE_BUDGET.maxBytes)}%` }} />
      </div>
      <p className="muted">
        Measured from Auth.js&apos;s encoding: <span data-testid="measured-vs-actual">{measure.headerBytes === actualBytes ? "matches" : `differs from`}</span> the {actualBytes} bytes
        of the cookie{measure.cookies.length > 1 ? "s" : ""} this request carried.
      </p>
      {(moved.length > 0 || dropped.length > 0) && (
        <p data-testid="budget-actions">
          {moved.length > 0 && <>Moved to server-side data: <strong>{moved.join(", ")}</strong>. </>}
          {dropped.length > 0 && <>Dropped: <strong>{dropped.join(", ")}</strong>.</>}
        </p>
      )}
      <h2>The whole request</h2>
      <p className="intro">
        Each request carries all of this site&apos;s cookies in one <code>Cookie</code> header: the session&apos;s chunks and every
        other cookie. Proxies refuse a request whose header is too big (nginx and CloudFront answer 431 or 494 near 8 KB); the
        limit is <code>cookieHeaderLimit</code> in <code>nextClaimsKit()</code>&apos;s options, and a development server warns when a request exceeds it.
      </p>
      <div className="row">
        <strong data-testid="header-bytes">{header.bytes}</strong> of {header.limit} bytes of <code>Cookie</code> header: the session{" "}
        <span data-testid="header-session-bytes">{header.sessionBytes}</span>, other cookies <span data-testid="header-other-bytes">{header.otherBytes}</span>
        <span className={header.over ? "error" : "ok"} data-testid="header-status">{header.over ? "over the limit" : "within the limit"}</span>
      </div>
      <div className={`bar wide${header.over ? " over" : ""}`} data-testid="header-bar" title={`${header.bytes}/${header.limit}`}>
        <span style={{ width: `${percent(header.bytes, header.limit)}%` }} />
      </div>
      <p className="muted" data-testid="header-cookies">
        {header.cookies.map((c) => <code key={c.name}>{c.name} {c.bytes}{c.session ? " (session)" : ""} </code>)}
      </p>
      <AuthenticationSection token={token} mfa={mfa} />
      <table data-testid="inspector">
        <thead><tr><th>Claim</th><th>Stored as</th><th>Visibility</th><th>Bytes</th><th></th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} data-claim={r.name}>
              <td><code>{r.name}</code></td>
              <td><code>{r.key}</code></td>
              <td><span className={`badge ${kit.claims.get(r.name)?.visibility ?? AUTH_JS[r.name] ?? "token"}`}>{kit.claims.get(r.name)?.visibility ?? AUTH_JS[r.name] ?? "token"}</span></td>
              <td data-testid="claim-bytes">{r.bytes}</td>
              <td style={{ width: "40%" }}><div className="bar"><span style={{ width: `${percent(r.bytes, largest)}%` }} /></div></td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted">Server-side claims ({[...kit.claims].filter(([, c]) => c.visibility === "server").map(([n]) => n).join(", ")}) and moved claims are not in the cookie.</p>
    </>
  );
}
