import { redirect } from "next/navigation";
import { auth } from "@/auth";

/** The session, or a redirect home that remembers where the user was going (`?callbackUrl=`). */
export async function requireSession(path: string) {
  const session = await auth();
  if (!session) redirect(`/?callbackUrl=${encodeURIComponent(path)}`);
  return session;
}
