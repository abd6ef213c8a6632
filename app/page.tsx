import Link from "next/link";
import { auth } from "@/auth";
import { safeReturnTo } from "@/app/_lib/return-to";
import { carriesEndedSession } from "./session-ended";

// Which user of the demo data (prisma/seed-data.ts) shows which feature. Only a hint for people
// running it locally: nothing in the app depends on these users.
const DEMO_USERS: Array<[string, string]> = [
  ["alice@example.com", "staff; admin of Acme Corp and member of Globex: the admin page, and the tenant switch taking it away."],
  ["bob@example.com", "member of Acme Corp with one extra grant (report:export): disabled buttons and why."],
  ["carol@example.com", "viewer of Globex, owner of Initech: read-only in one tenant, everything in the other."],
  ["dave@example.com", "no tenant at all: what the app shows without one."],
];

export default async function Home({ searchParams }: { searchParams: Promise<{ callbackUrl?: string; ended?: string }> }) {
  const session = await auth();
  const params = await searchParams;
  const returnTo = safeReturnTo(params.callbackUrl);
  const ended = !session && (params.ended === "1" || (await carriesEndedSession()));
  return (
    <>
      <h1>Auth.js claims, composed</h1>
      <p className="intro">
        This app builds its Auth.js <code>jwt()</code> and <code>session()</code> callbacks from the toolkit in{" "}
        <code>lib/claims-kit</code>: one <code>claimsKit({"{"} plugins {"}"})</code> call in <code>auth.config.ts</code> adds a role, a
        tenant, compact permissions, billing claims, server-side session data and OAuth token refresh. Each page shows one of them.
      </p>
      {ended && (
        <p className="notice warn" role="alert" data-testid="session-ended">
          <strong>You were signed out on this device.</strong> Your session was ended elsewhere: from another device&apos;s session list,
          by an administrator, by signing out everywhere, or by your identity provider. Sign in again to continue.
        </p>
      )}
      {session ? (
        <p>
          Signed in as <strong>{session.user.name ?? session.user.email}</strong>. Start with the <Link href="/dashboard">dashboard</Link>.
        </p>
      ) : (
        <>
          {returnTo && (
            <p className="notice" data-testid="sign-in-to-continue">
              Sign in to continue to <code>{returnTo}</code>.
            </p>
          )}
          <p>Sign in with the OpenID Connect provider. &quot;Sign out&quot; signs you out of the provider too, so you can sign in as someone else.</p>
          <details>
            <summary>Demo users (local setup: the bundled provider takes any password)</summary>
            <table className="compact">
              <caption className="sr-only">Demo users and what each shows</caption>
              <tbody>
                {DEMO_USERS.map(([email, shows]) => (
                  <tr key={email}><th scope="row"><code>{email}</code></th><td>{shows}</td></tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </>
  );
}
