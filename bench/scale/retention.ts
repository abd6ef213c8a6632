// Section 7, tables bounded: a simulated year of sign-ins against the retention purge
// (`kit.sessions.purge()`, issue #26). That purge has not landed on main yet: the section says so
// and measures nothing rather than a table without retention (which grows without bound, by design
// of that state of the code).
import type { Table } from "../report";
import type { Context } from "./context";

/** Whether the kit exposes the retention purge this section drives. */
async function hasPurge(ctx: Context): Promise<boolean> {
  const { workers, close } = await ctx.workers(1);
  try {
    return await workers[0]!.call<boolean>("hasPurge");
  } finally {
    await close();
  }
}

export async function retentionTable(ctx: Context, log: (line: string) => void): Promise<Table> {
  const present = await hasPurge(ctx);
  log(`retention: kit.sessions.purge ${present ? "present" : "absent"}`);
  const reason = present
    ? "kit.sessions.purge() is present, but this bench does not drive it yet: it was written while the purge had not landed on main."
    : "needs purge: kit.sessions.purge() (retention, default keepFor 30 days; issue #26) has not landed on main, so nothing bounds these tables yet and this section measures nothing.";
  return {
    title: "Tables bounded: a simulated year of sign-ins with the retention purge",
    columns: ["table", "rows", "bytes (pg_total_relation_size)", "what retention implies"],
    rows: [["—", "needs purge", "needs purge", "—"]],
    notes: [
      reason,
      "Hook (bench/scale/retention.ts): once the purge lands, seed ~2 million sessions by simulated day (multi-row INSERTs, ~5,500 sign-ins a day, each ended or expired on a schedule), call kit.sessions.purge({ now }) after each simulated day, and report rows and pg_total_relation_size per table (UserSession, SessionData, KitChange, Account) against sessions per day × (session lifetime + keepFor).",
    ],
  };
}
