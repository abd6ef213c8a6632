// Demo data: four users, three tenants, memberships that differ per user, a few invoices per tenant. Idempotent: rows that
// exist are left as they are (a demo tier upgrade survives a restart), so `npm start` runs it
// every time.
import type { PrismaClient } from "./generated/prisma/client";

const tenants = [
  { slug: "acme", name: "Acme Corp" },
  { slug: "globex", name: "Globex" },
  { slug: "initech", name: "Initech" },
] as const;

type Slug = (typeof tenants)[number]["slug"];

/** A few invoices per tenant, so the Invoices page's buttons act on something. */
const invoices: Record<Slug, Array<{ number: string; customer: string; amountCents: number; status: "draft" | "sent" | "paid" }>> = {
  acme: [
    { number: "INV-0001", customer: "Wayne Enterprises", amountCents: 125_000, status: "paid" },
    { number: "INV-0002", customer: "Stark Industries", amountCents: 48_050, status: "sent" },
    { number: "INV-0003", customer: "Umbrella Ltd", amountCents: 9_900, status: "draft" },
  ],
  globex: [
    { number: "INV-0001", customer: "Hooli", amountCents: 310_000, status: "paid" },
    { number: "INV-0002", customer: "Pied Piper", amountCents: 12_500, status: "sent" },
  ],
  initech: [
    { number: "INV-0001", customer: "Initrode", amountCents: 2_400, status: "draft" },
  ],
};

const users: Array<{
  email: string;
  name: string;
  role: string;
  tier: string;
  credits: number;
  defaultTenant?: Slug;
  /** Tenant role, or role plus that tenant's grants (comma-separated). Nobody has global grants. */
  memberships: Partial<Record<Slug, string | { role: string; grants: string }>>;
}> = [
  // Admin of Acme, plain member of Globex: the tenant switch changes what she may do.
  { email: "alice@example.com", name: "Alice Admin", role: "staff", tier: "pro", credits: 120,
    defaultTenant: "acme", memberships: { acme: "admin", globex: "member" } },
  // Member of Acme only; one extra grant on top of the member role, in Acme only.
  { email: "bob@example.com", name: "Bob Member", role: "user", tier: "free", credits: 10,
    defaultTenant: "acme", memberships: { acme: { role: "member", grants: "report:export" } } },
  // Viewer of Globex, owner of Initech.
  { email: "carol@example.com", name: "Carol Viewer", role: "user", tier: "free", credits: 0,
    defaultTenant: "globex", memberships: { globex: "viewer", initech: "owner" } },
  // No tenant at all.
  { email: "dave@example.com", name: "Dave Nomad", role: "user", tier: "free", credits: 0,
    memberships: {} },
];

/** Insert the demo rows that are missing. Returns the tenant ids by slug. */
export async function seed(prisma: PrismaClient): Promise<Map<string, string>> {
  const bySlug = new Map<string, string>();
  for (const t of tenants) {
    const row = await prisma.tenant.upsert({ where: { slug: t.slug }, update: { name: t.name }, create: t });
    bySlug.set(t.slug, row.id);
    // Only when the tenant has none yet: invoices created or deleted in the demo stay as they are.
    if ((await prisma.invoice.count({ where: { tenantId: row.id } })) === 0) {
      await prisma.invoice.createMany({ data: invoices[t.slug].map((i) => ({ ...i, tenantId: row.id })) });
    }
  }
  for (const u of users) {
    const defaultTenantId = u.defaultTenant ? bySlug.get(u.defaultTenant) : null;
    const data = { name: u.name, role: u.role, tier: u.tier, credits: u.credits, defaultTenantId };
    // Stored as Auth.js links them: lower-cased.
    const email = u.email.toLowerCase();
    const user = await prisma.user.upsert({
      where: { email },
      update: {},
      create: { email, emailVerified: new Date(), ...data },
    });
    for (const [slug, m] of Object.entries(u.memberships)) {
      const tenantId = bySlug.get(slug)!;
      const { role, grants } = typeof m === "string" ? { role: m, grants: "" } : m;
      await prisma.membership.upsert({
        where: { userId_tenantId: { userId: user.id, tenantId } },
        update: {},
        create: { userId: user.id, tenantId, role, grants },
      });
    }
  }
  return bySlug;
}

export const SEED = { tenants, users, invoices };
