import { auth } from "../auth";

export default async function Home() {
  const session = await auth();
  return (
    <>
      <h1>Auth.js, hand-written callbacks</h1>
      {session ? (
        <p>
          Signed in as <strong>{session.user.name ?? session.user.email}</strong>
          {session.error && <span> ({session.error})</span>}.
        </p>
      ) : (
        <p>Not signed in.</p>
      )}
    </>
  );
}
