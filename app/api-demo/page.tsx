import { requireSession } from "@/app/require-session";
import { getAccessToken, readToken } from "@/auth";
import { linkProviders, oauth } from "@/auth.config";
import { linkProviderAction } from "./actions";
import { signInAction } from "@/app/actions";
import { describeCode } from "@/app/ui/messages";

export const metadata = { title: "Provider API" };

export const dynamic = "force-dynamic";

/** Calls the provider's userinfo API with the server-side access token; the token never leaves the server. */
export default async function ApiDemoPage() {
  const session = await requireSession("/api-demo");
  const info = await getAccessToken(oauth);
  let result: { status: number; body: Record<string, unknown> | null; error?: string } | null = null;
  if (info) {
    const { userinfoEndpoint } = await oauth.endpoints();
    if (userinfoEndpoint) {
      const response = await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${info.accessToken}` }, cache: "no-store" });
      // RFC 6750: a refused bearer token says why in WWW-Authenticate (error="invalid_token").
      const error = /error="([^"]*)"/.exec(response.headers.get("www-authenticate") ?? "")?.[1];
      result = { status: response.status, body: response.ok ? ((await response.json()) as Record<string, unknown>) : null, ...(error ? { error } : {}) };
    }
  }
  const now = Math.floor(Date.now() / 1000);
  const oauthError = session.errors?.oauth;
  // Every provider account whose tokens the kit keeps for this user (no token values).
  const accounts = await oauth.accounts(await readToken());
  const unlinked = linkProviders.filter((p) => !accounts.some((a) => a.provider === p));
  return (
    <>
      <h1>Provider API</h1>
      <p className="intro">
        OAuth token refresh: <code>oauthRefresh(…)</code> (the <code>oauth</code> constant in <code>auth.config.ts</code>) keeps the
        provider&apos;s access token on the server (vault mode: in the database) and refreshes it before it expires;{" "}
        <code>getAccessToken(oauth)</code> hands it to server code only. This page calls the provider&apos;s userinfo API with it.
      </p>
      {oauthError === "no_refresh_token" && (
        <p className="error" data-testid="no-refresh-token">
          The provider gave no refresh token at sign-in (<code>no_refresh_token</code>): this access token works until it
          expires, then you will be asked to sign in again. Usually the authorization request lacks <code>offline_access</code> with
          {" "}<code>prompt=consent</code> (<code>AUTH_OIDC_PROMPT</code>, <code>AUTH_OIDC_AUTH_PARAMS</code>).
        </p>
      )}
      {info ? (
        <table>
          <tbody>
            <tr><th>Access token expires in</th><td data-testid="expires-in">{info.expiresAt - now} s</td></tr>
            <tr><th>Refreshes so far</th><td data-testid="refresh-count">{info.refreshCount ?? "— (cookie mode)"}</td></tr>
            <tr><th>userinfo status</th><td data-testid="userinfo-status">{result?.status ?? "—"}</td></tr>
            <tr><th>userinfo email</th><td data-testid="userinfo-email">{String(result?.body?.email ?? "—")}</td></tr>
          </tbody>
        </table>
      ) : (
        <p className="notice warn" data-testid="no-token">
          No usable access token. {oauthError ? describeCode(oauthError) : "Sign in again to get one."}
          {oauthError && <span className="code"> (code <code>{oauthError}</code>)</span>}
        </p>
      )}
      {(result?.status === 401 || (!info && oauthError !== "no_refresh_token")) && (
        <div className="notice warn" role="alert" data-testid="grant-gone">
          {result?.status === 401 && (
            <p>
              <strong>The provider no longer accepts this sign-in.</strong> Its userinfo API refused the access token (HTTP 401
              {result.error ? <>, <code>{result.error}</code></> : null}): the grant behind it is gone, e.g. the provider was restarted and
              forgot it, or the access was revoked there. The token is not expired, so the app cannot know before it asks.
            </p>
          )}
          <form action={signInAction} className="row">
            <input type="hidden" name="callbackUrl" value="/api-demo" />
            <button type="submit">Sign in again</button>
            <span className="muted">You come back to this page with a new grant.</span>
          </form>
        </div>
      )}
      <h2>Linked accounts</h2>
      <p className="muted">
        Each provider account has its own token set, refreshed on its own: <code>getAccessToken(oauth.forProvider(&quot;work&quot;))</code>.
        Link a second provider below (<code>linked</code> in the <code>oauth</code> options, <code>AUTH_WORK_*</code>).
      </p>
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Linked accounts">
        <table data-testid="linked-accounts">
          <thead>
            <tr><th scope="col">Provider</th><th scope="col">Account</th><th scope="col">Access token expires</th><th scope="col">Refreshes</th><th scope="col">Status</th></tr>
          </thead>
          <tbody>
            {accounts.map((a) => (
              <tr key={`${a.provider}:${a.providerAccountId}`} data-testid={`linked-${a.provider}`}>
                <td>{a.provider}</td>
                <td>{a.providerAccountId}</td>
                <td>{a.expiresAt ? new Date(a.expiresAt * 1000).toLocaleString("en-GB", { timeZone: "UTC" }) + " UTC" : "—"}</td>
                <td data-testid={`linked-${a.provider}-refreshes`}>{a.refreshCount}</td>
                <td>{a.error ? <>stopped: <code>{a.error}</code></> : a.hasRefreshToken ? "active: refreshed before expiry" : "no refresh token: sign in again at expiry"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {unlinked.map((provider) => (
        <form key={provider} action={linkProviderAction} className="row">
          <input type="hidden" name="provider" value={provider} />
          <button type="submit" data-testid={`link-${provider}`}>Link your {provider} account</button>
        </form>
      ))}
    </>
  );
}
