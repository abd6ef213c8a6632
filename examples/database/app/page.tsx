import { access } from "../access";
import { auth } from "../auth";
import { signInAction, signOutAction } from "./actions";
import { NicknameForm } from "./nickname-form";

export default async function Home() {
  // Read from the database on every request (Auth.js's Session and User rows, the kit's session
  // state); typed from the plugins: session.claims.role is "user" | "staff".
  const session = await auth();
  if (!session) {
    return (
      <main>
        <h1>claims-kit, database sessions</h1>
        <p>Not signed in.</p>
        <form action={signInAction}>
          <button type="submit">Sign in</button>
        </form>
      </main>
    );
  }
  const granted = access.permissions.filter((permission) => access.can(session, permission));
  return (
    <main>
      <h1>claims-kit, database sessions</h1>
      <form action={signOutAction}>
        <span data-testid="signed-in-as">{session.user.email}</span>{" "}
        <button type="submit">Sign out</button>
      </form>
      <dl>
        <dt>Role</dt>
        <dd data-testid="role">{session.claims.role ?? "(none)"}</dd>
        <dt>Permissions</dt>
        <dd data-testid="permissions">{granted.join(", ") || "(none)"}</dd>
        <dt>Nickname</dt>
        <dd data-testid="nickname">{session.claims.nickname ?? "(none)"}</dd>
      </dl>
      <NicknameForm />
    </main>
  );
}
