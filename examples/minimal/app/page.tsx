import { auth, getAccessToken } from "../auth";
import { oauth } from "../kit";
import { signInAction, signOutAction } from "./actions";
import { NicknameForm } from "./nickname-form";

export default async function Home() {
  // Typed from the plugins: session.claims.role is "user" | "staff", session.claims.nickname a string.
  const session = await auth();
  if (!session) {
    return (
      <main>
        <h1>claims-kit, minimal</h1>
        <p>Not signed in.</p>
        <form action={signInAction}>
          <button type="submit">Sign in</button>
        </form>
      </main>
    );
  }
  // Cookie mode: the provider's tokens are token-only claims, never in the session the browser reads.
  const token = await getAccessToken(oauth);
  return (
    <main>
      <h1>claims-kit, minimal</h1>
      <form action={signOutAction}>
        <span data-testid="signed-in-as">{session.user.email}</span>{" "}
        <button type="submit">Sign out</button>
      </form>
      <dl>
        <dt>Role</dt>
        <dd data-testid="role">{session.claims.role ?? "(none)"}</dd>
        <dt>Nickname</dt>
        <dd data-testid="nickname">{session.claims.nickname ?? "(none)"}</dd>
        <dt>Provider access token</dt>
        <dd data-testid="access-token">{token ? "present (server only)" : "none"}</dd>
      </dl>
      <NicknameForm />
    </main>
  );
}
