import Link from "next/link";
import { auth } from "@/auth";
import { safeReturnTo } from "@/lib/return-to";

export default async function Home({ searchParams }: { searchParams: Promise<{ callbackUrl?: string }> }) {
  const session = await auth();
  const returnTo = safeReturnTo((await searchParams).callbackUrl);
  return (
    <>
      <h1>Auth.js claims, composed</h1>
      <p>
        This app composes its <code>jwt()</code> and <code>session()</code> callbacks from the toolkit in{" "}
        <code>lib/claims-kit</code>: role, tenant, permissions, billing claims and server-side session data.
      </p>
      {session ? (
        <p>
          Signed in as <strong>{session.user.name ?? session.user.email}</strong>. Open the <Link href="/dashboard">dashboard</Link>.
        </p>
      ) : (
        <>
          {returnTo && (
            <p className="error" data-testid="sign-in-to-continue">
              Sign in to continue to <code>{returnTo}</code>.
            </p>
          )}
          <p className="muted">Sign in with the OpenID Connect provider (locally: any seeded email, e.g. alice@example.com, any password).</p>
        </>
      )}
    </>
  );
}
