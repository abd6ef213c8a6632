// Section 7, tables bounded: a simulated year of sign-ins (about 2 million sessions, 5,500 a day)
// against the retention purge, kit.sessions.purge({ now }) after each simulated day (year.ts), in a
// database of its own (the other sections' sessions would blur the counts). Rows and bytes per
// table through the year, against what the retention rules leave of the same schedule.
import { freshPostgres } from "../postgres";
import { fmt, median, type Table } from "../report";
import { NO_ISSUER, type Context } from "./context";
import { benchTenant, seedUsers, templateData, userIdOf } from "./seed";
import { spread } from "./util";
import { KEEP_FOR, MIX, simulateYear, TABLES, type TableName, type YearResult } from "./year";

const DAYS = 365;
/** The year asked for: 5,500 sign-ins a day (about 2 million), over 20,000 users. */
const PER_DAY = 5500;
const USERS = 20_000;
/**
 * The year run: a quarter of the sign-ins every day of the year, scaled ×4 in the table. On 2
 * cores the full year's purges alone take about 10 minutes (1.9 s a simulated day once expiries
 * and deletions run every day), past the run's 15-minute budget; rows scale exactly (retention
 * decides session by session), bytes about linearly.
 */
const FRACTION = 4;
const CHECKPOINTS = [30, 60, 90, 180, 270, 365];

const mb = (bytes: number) => fmt(bytes / 2 ** 20, 1);

export async function retentionTables(ctx: Context, scale: number, log: (line: string) => void): Promise<Table[]> {
  const perDay = Math.max(50, Math.round((PER_DAY * scale) / FRACTION));
  const users = Math.max(100, Math.round((USERS * scale) / FRACTION));
  const factor = PER_DAY / perDay;
  const data = await templateData(ctx.url, (ctx.template._k as { sid: string }).sid);
  if (data === null) throw new Error("retention: the template session has no server data");
  const db = await freshPostgres("retention");
  let year: YearResult;
  const started = performance.now();
  try {
    await seedUsers(db.url, await benchTenant(db.url), 1, users + 1);
    year = await simulateYear(db.url, { days: DAYS, perDay, users, userId: userIdOf, data, issuer: NO_ISSUER, checkpoints: CHECKPOINTS.filter((d) => d <= DAYS), log });
  } finally {
    await db.drop();
  }
  const seconds = (performance.now() - started) / 1000;
  log(`retention: ${year.sessions} sessions over ${DAYS} days in ${fmt(seconds, 0)} s`);
  const last = year.snapshots.at(-1)!;
  const implied = (t: TableName) => (t === "Session" ? 0 : year.implied[t]);
  const history = (t: TableName, pick: (s: { rows: number; bytes: number }) => string) => year.snapshots.map((s) => pick(s.tables[t])).join(" / ");
  const what: Record<TableName, string> = {
    UserSession: "sessions signed in within their use + 30 days (signed out) or + 60 days (expired: 30 days' lifetime, then keepFor)",
    SessionData: "live sessions only (deleted at sign-out, and once past their expiry)",
    KitChange: "the last day's changes (keepChangesFor 1 day; here the sign-outs)",
    Session: "none: Auth.js's Session table is written under the database strategy only (the bench and the app's default: JWT)",
  };
  const sizes: Table = {
    title: `Tables bounded: a simulated year of sign-ins with kit.sessions.purge() after each day: ${year.sessions.toLocaleString("en-US")} sessions run (${perDay.toLocaleString("en-US")} a day for ${DAYS} days), scaled ×${fmt(factor, factor % 1 ? 1 : 0)} to ${(PER_DAY * DAYS).toLocaleString("en-US")} (${PER_DAY.toLocaleString("en-US")} a day)`,
    columns: ["table", `rows at day ${DAYS}`, "what retention implies (rows)", `rows at days ${year.snapshots.map((s) => s.day).join(" / ")}`, `MB at day ${DAYS} (pg_total_relation_size, as run)`, `MB at days ${year.snapshots.map((s) => s.day).join(" / ")}`, "MB after VACUUM FULL", `×${fmt(factor, factor % 1 ? 1 : 0)} (${PER_DAY.toLocaleString("en-US")} a day): rows / MB as run`, "implied: what it holds"],
    numeric: [1, 2, 4, 6],
    rows: TABLES.map((t) => [t, last.tables[t].rows, implied(t), history(t, (s) => String(s.rows)), mb(last.tables[t].bytes), history(t, (s) => mb(s.bytes)), mb(year.compact[t]), `${Math.round(last.tables[t].rows * factor).toLocaleString("en-US")} / ${mb(last.tables[t].bytes * factor)}`, what[t]]),
    notes: [
      `RUN AT ${perDay.toLocaleString("en-US")} SIGN-INS A DAY${PER_DAY * scale === PER_DAY ? ` (a ${FRACTION === 4 ? "quarter" : `1/${FRACTION}`} of ${PER_DAY.toLocaleString("en-US")}: the full year's purges alone take about 10 minutes on 2 cores, past the run's budget)` : " (a development run)"}, every day of the year, and scaled ×${fmt(factor, factor % 1 ? 1 : 0)} in the ×${fmt(factor, factor % 1 ? 1 : 0)} column: row counts scale exactly (retention decides session by session, and the implied counts are linear in the daily rate), bytes about linearly (per-table overhead aside). ${DAYS} simulated days, each: that day's ${perDay.toLocaleString("en-US")} sign-ins (at random times of the day, ${users.toLocaleString("en-US")} users) inserted as the kit writes a sign-in (a UserSession row, a SessionData row with the template session's ${data.length} B of server data, expiring 30 days after the last use), that day's sign-outs applied as the kit writes them (the row ended by "user", its SessionData deleted, one KitChange row), then kit.sessions.purge({ now: the end of that day, keepFor: 30 days }) in a worker process running the reference app's composition (the Prisma registry behind the registry cache, the server data store, the change log, replay keys, security events; 500 rows per statement). A database of its own, so only the year's rows are counted.`,
      `The mix: ${fmt(MIX.signOut * 100, 0)}% sign out after their use, ${fmt(MIX.longLived * 100, 0)}% stay in use 30-180 days, the rest (${fmt((1 - MIX.signOut - MIX.longLived) * 100, 0)}%) are used an exponentially distributed time (mean 2 days, at most 30) and left to expire; ${year.signOuts.toLocaleString("en-US")} sign-outs in the year. A session's lastSeenAt is written at sign-in as its last use (the purge as of any day decides as it would with lastSeenAt touched along the way: a session still in use is not past its cutoff either way).`,
      `"What retention implies": the same schedule with the rules applied session by session (a signed-out session is deleted by the first purge more than keepFor after the sign-out; an unused one is marked expired by the first purge more than 30 days + 600 s (touchEvery + verifyEvery) after its last use, and deleted keepFor after that; server data goes at sign-out or past its expiry; the change log keeps 1 day and always its newest row). At the end of the year ${year.live.toLocaleString("en-US")} sessions are live (implied ${year.implied.live.toLocaleString("en-US")}). In steady state that is roughly sign-ins a day × (mean use + 30 days for sign-outs, + 60 days for the others): UserSession grows while the long-lived sessions accumulate (up to 180 days of use + 60) and then stays level; it does not grow with the year's total.`,
      `MB as run: with autovacuum's rule applied by the bench after each simulated day (this server runs autovacuum = ${year.maintenance.serverAutovacuum}, and a year compressed into minutes would give a real autovacuum no time either): VACUUM (ANALYZE) of a table once its dead rows pass 50 + 20% of its rows (or its inserts 1,000 + 20%), ANALYZE once its changed rows pass 50 + 10% (the server's autovacuum_* settings), ${year.maintenance.vacuums} VACUUMs and ${year.maintenance.analyzes} ANALYZEs in all; deleted rows' space is reused by later inserts, not returned to the system. After VACUUM FULL: the same rows compacted (at the end, for scale). Not simulated: Account and User rows (one per user, not per session: ${users.toLocaleString("en-US")} users), claims-version bumps and other change-log writers (the log's size is its last day of changes, whatever they are).`,
    ],
  };
  const ms = spread(year.purgeMs);
  const statements = spread(year.purgeStatements);
  const steady = year.purgeMs.slice(70);
  const steadyCpu = year.purgeCpuMs.slice(70);
  const purge: Table = {
    title: "Retention purge per simulated day (kit.sessions.purge, batches of 500 rows)",
    columns: ["measure", "measured"],
    rows: [
      ["purge time per day, p50 / p99 / max ms (in the worker)", `${fmt(ms.p50, 0)} / ${fmt(ms.p99, 0)} / ${fmt(ms.max, 0)}`],
      ["… from day 71 on (steady state: expiries and deletions every day), median ms", fmt(steady.length ? median(steady) : NaN, 0)],
      ["… of which the worker's CPU (Prisma, the kit), median ms from day 71 on", fmt(steadyCpu.length ? median(steadyCpu) : NaN, 0)],
      ["statements per purge, p50 / max (the worker's relay: the purge's, plus its change feed's heartbeat meanwhile)", `${statements.p50} / ${statements.max}`],
      ["rows over the year: expired / deleted / server data / change log", `${year.purged.expired.toLocaleString("en-US")} / ${year.purged.deleted.toLocaleString("en-US")} / ${year.purged.serverData.toLocaleString("en-US")} / ${year.purged.changes.toLocaleString("en-US")}`],
      ["the year's purges together, s", fmt(year.purgeMs.reduce((a, b) => a + b, 0) / 1000, 1)],
      ["writing the year's sign-ins and sign-outs, s (the bench's own inserts)", fmt(year.insertSeconds, 1)],
      ["the bench's autovacuum (VACUUM / ANALYZE runs, s)", `${year.maintenance.vacuums} / ${year.maintenance.analyzes}, ${fmt(year.maintenance.seconds, 1)} s`],
      ["this section, s", fmt(seconds, 0)],
    ],
    notes: [`Keep-for ${KEEP_FOR / 86400} days (purge's default, the app's AUTH_SESSION_RETENTION). Each purge runs as of the end of its simulated day right after that day's writes, so a day's purge does one day's work (the app runs it every AUTH_PURGE_EVERY minutes: smaller batches, the same total).`],
  };
  return [sizes, purge];
}
