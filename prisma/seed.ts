// `npm run db:seed`: the demo data of prisma/seed-data.ts, into DATABASE_URL.
import { prisma } from "../app/_lib/db";
import { SEED, seed } from "./seed-data";

seed(prisma)
  .then(() => console.log(`seeded ${SEED.tenants.length} tenants, ${SEED.users.length} users and their invoices`))
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => prisma.$disconnect());
