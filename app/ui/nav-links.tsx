"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

/** The main navigation; the current page's link is marked for screen readers and styled. */
export function NavLinks({ links }: { links: Array<[href: string, label: string]> }) {
  const pathname = usePathname();
  return (
    <nav aria-label="Main">
      {links.map(([href, label]) => (
        <Link key={href} href={href} aria-current={pathname === href ? "page" : undefined}>{label}</Link>
      ))}
    </nav>
  );
}
