// `npm run db:purge`: one retention purge of DATABASE_URL now (what the server runs every
// AUTH_PURGE_EVERY minutes): expired sessions marked ended, sessions ended more than
// AUTH_SESSION_RETENTION days ago deleted with their server data, the change log, replay keys and
// security events pruned; in batches of 500 rows. Prints what it did and how fast.
import process from "node:process";

const { app } = await import("../auth.config");
const { prisma } = await import("../app/_lib/db");
if (!process.env.DATABASE_URL) {
  console.error("configuration: DATABASE_URL must be set (see docs/reference-app.md, Configuration)");
  process.exit(1);
}
const started = performance.now();
try {
  const r = await app.purge();
  const seconds = (performance.now() - started) / 1000;
  const rows = r.expired + r.deleted + r.serverData + r.changes + r.replay + r.events;
  console.log(`purged in ${seconds.toFixed(1)} s (${Math.round(rows / Math.max(seconds, 0.001))} rows/s): ${r.expired} sessions expired, ${r.deleted} ended sessions deleted, ${r.serverData} server data rows, ${r.changes} change-log rows, ${r.replay} replay keys, ${r.events} security events`);
} finally {
  await app.close();
  await prisma.$disconnect();
}
