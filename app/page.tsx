import Link from "next/link";
import { auth } from "@/auth";

export default async function Home() {
  const session = await auth();
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
        <p className="muted">Sign in with the OpenID Connect provider (locally: any seeded email, e.g. alice@example.com, any password).</p>
      )}
    </>
  );
}
