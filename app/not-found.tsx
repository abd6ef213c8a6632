import Link from "next/link";

export const metadata = { title: "Not found" };

export default function NotFound() {
  return (
    <>
      <h1 data-testid="not-found">Page not found</h1>
      <p>
        There is no page at this address. Go <Link href="/">home</Link> or to the <Link href="/dashboard">dashboard</Link>.
      </p>
    </>
  );
}
