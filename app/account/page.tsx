import { requireSession } from "@/app/require-session";
import { AccountControls } from "./account-controls";

export const metadata = { title: "Account" };

export default async function AccountPage() {
  const session = await requireSession("/account");
  return (
    <>
      <h1>Account</h1>
      <p className="intro">
        Changing claims safely: a validated update intent (<code>setDisplayName</code> in the <code>profile</code> plugin), a claims
        refresh after a database change (<code>billing</code>) and a server-side update (<code>updateSession()</code>). All three are
        declared in the <code>plugins</code> list of <code>makeKit()</code> in <code>auth.config.ts</code>.
      </p>
      <table data-testid="account-claims" className="compact">
        <caption className="sr-only">Your account claims</caption>
        <tbody>
          <tr><th scope="row">Display name</th><td data-testid="display-name">{session.claims.displayName ?? "—"}</td></tr>
          <tr><th scope="row">Tier</th><td data-testid="tier">{session.claims.tier ?? "—"}</td></tr>
          <tr><th scope="row">Credits</th><td data-testid="credits">{session.claims.credits ?? 0}</td></tr>
        </tbody>
      </table>
      <AccountControls />
    </>
  );
}
