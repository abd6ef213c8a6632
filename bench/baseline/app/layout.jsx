import Link from "next/link";
import { auth } from "../auth";

export const metadata = { title: "Plain Auth.js baseline" };

export default async function RootLayout({ children }) {
  const session = await auth();
  return (
    <html lang="en">
      <body>
        <header>
          <strong>Plain Auth.js</strong>
          <nav>
            <Link href="/">Home</Link>
          </nav>
          {session ? <span data-testid="signed-in-as">{session.user.email}</span> : <span>Signed out</span>}
        </header>
        <main>{children}</main>
      </body>
    </html>
  );
}
