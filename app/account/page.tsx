import { requireSession } from "@/app/require-session";
import { AccountControls } from "./account-controls";

export const metadata = { title: "Account" };

export default async function AccountPage() {
  const session = await requireSession("/account");
  return (
    <>
      <h1>Account</h1>
      <table data-testid="account-claims">
        <tbody>
          <tr><th>Display name</th><td data-testid="display-name">{session.claims.displayName ?? "—"}</td></tr>
          <tr><th>Tier</th><td data-testid="tier">{session.claims.tier ?? "—"}</td></tr>
          <tr><th>Credits</th><td data-testid="credits">{session.claims.credits ?? 0}</td></tr>
        </tbody>
      </table>
      <AccountControls />
    </>
  );
}
