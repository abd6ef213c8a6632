// Section 7's simulated year: sign-ins day by day into a database of their own, written as the kit
// writes them (a UserSession row and its SessionData row at sign-in; at sign-out the row ended by
// "user", its SessionData deleted and a KitChange row appended), then kit.sessions.purge({ now })
// as of the end of each day in a worker process (the reference app's composition). What retention
// should leave is computed from the same schedule, session by session, beside what it left.
import { createHash } from "node:crypto";
import type pg from "pg";
import { startWorkers } from "./pool";
import { withClient } from "./seed";
import { seeded } from "./util";

const DAY = 24 * 60 * 60;
/** The app's session lifetime (auth.config.ts SESSION_MAX_AGE) and purge's default keepFor. */
const MAX_AGE = 30 * DAY;
export const KEEP_FOR = 30 * DAY;
/** purge's expiry cutoff past the lifetime: freshness.touchEvery + verifyEvery (300 s each, the app's). */
const EXPIRY_SLACK = 600;
const KEEP_CHANGES_FOR = DAY;
export const TABLES = ["UserSession", "SessionData", "KitChange", "Session"] as const;
export type TableName = (typeof TABLES)[number];

/** Who does what: most sessions are used a few days and left to expire; some sign out; a few stay in use for months. */
export const MIX = { signOut: 0.3, longLived: 0.05 };
/** Days of use: exponential with this mean (capped at 30 days) for most; uniform 30-180 days for the long-lived. */
const MEAN_USE_DAYS = 2;

export interface Snapshot {
  day: number;
  tables: Record<TableName, { rows: number; bytes: number }>;
}

export interface YearResult {
  /** The start of the first simulated day (seconds): day d's purge runs as of t0 + (d + 1) days. */
  t0: number;
  days: number;
  perDay: number;
  sessions: number;
  signOuts: number;
  users: number;
  /** What the schedule and the retention rules leave at the end of the year. */
  implied: Record<"UserSession" | "SessionData" | "KitChange", number> & { live: number };
  live: number;
  snapshots: Snapshot[];
  compact: Record<TableName, number>;
  /** Per simulated day: the purge's time (ms, in the worker) and statements (its relay). */
  purgeMs: number[];
  /** The worker's CPU time during each purge (ms): how much of it is the process, not the database. */
  purgeCpuMs: number[];
  purgeStatements: number[];
  purged: { expired: number; deleted: number; serverData: number; changes: number };
  insertSeconds: number;
  /** The bench's autovacuum (see autovacuum()): runs and time; the server's own setting. */
  maintenance: { vacuums: number; analyzes: number; seconds: number; serverAutovacuum: string };
}

/**
 * Autovacuum's rule, applied by the bench after each simulated day: a compressed year gives the
 * real autovacuum no time (its launcher wakes every autovacuum_naptime, a minute), and the
 * project's PostgreSQL runs with autovacuum off. Per table, from the rows the day wrote and
 * purged: VACUUM once dead rows pass threshold + scale_factor × rows (or inserted rows the insert
 * threshold), ANALYZE once changed rows pass the analyze threshold; the server's own settings.
 */
function autovacuum(settings: Record<string, number>) {
  const state = new Map<TableName, { live: number; dead: number; inserted: number; changed: number }>(TABLES.map((t) => [t, { live: 0, dead: 0, inserted: 0, changed: 0 }]));
  const counts = { vacuums: 0, analyzes: 0, seconds: 0 };
  return {
    counts,
    wrote(t: TableName, change: { inserted?: number; updated?: number; deleted?: number }) {
      const s = state.get(t)!;
      const { inserted = 0, updated = 0, deleted = 0 } = change;
      s.live += inserted - deleted;
      s.dead += updated + deleted;
      s.inserted += inserted;
      s.changed += inserted + updated + deleted;
    },
    async run(c: pg.Client) {
      for (const [t, s] of state) {
        const vacuum = s.dead > settings.autovacuum_vacuum_threshold! + settings.autovacuum_vacuum_scale_factor! * s.live
          || s.inserted > settings.autovacuum_vacuum_insert_threshold! + settings.autovacuum_vacuum_insert_scale_factor! * s.live;
        const analyze = s.changed > settings.autovacuum_analyze_threshold! + settings.autovacuum_analyze_scale_factor! * s.live;
        if (!vacuum && !analyze) continue;
        const started = performance.now();
        await c.query(`${vacuum ? "VACUUM (ANALYZE)" : "ANALYZE"} "${t}"`);
        counts.seconds += (performance.now() - started) / 1000;
        if (vacuum) {
          counts.vacuums++;
          s.dead = 0;
          s.inserted = 0;
        }
        counts.analyzes++;
        s.changed = 0;
      }
    },
  };
}

const idOf = (i: number) => createHash("sha256").update(`year-${i}`).digest().subarray(0, 16).toString("base64url");

async function sizes(c: pg.Client): Promise<Snapshot["tables"]> {
  const out = {} as Snapshot["tables"];
  for (const t of TABLES) {
    const r = (await c.query<{ n: string; b: string }>(`SELECT (SELECT COUNT(*) FROM "${t}") AS n, pg_total_relation_size('"${t}"') AS b`)).rows[0]!;
    out[t] = { rows: Number(r.n), bytes: Number(r.b) };
  }
  return out;
}

/** Simulate `days` days of `perDay` sign-ins each, spread over `users` users (seeded already in `url`). */
export async function simulateYear(url: string, options: { days: number; perDay: number; users: number; userId: (i: number) => string; data: string; issuer: string; checkpoints: number[]; log: (line: string) => void; compact?: boolean }): Promise<YearResult> {
  const { days, perDay, users, data } = options;
  const t0 = Math.floor(Date.now() / 1000 / DAY) * DAY - days * DAY;
  const end = t0 + days * DAY;
  const random = seeded(20261207);
  /** Sign-outs by the day they happen: ids and times. */
  const signOutsOn = new Map<number, { ids: string[]; at: number[] }>();
  const implied = { UserSession: 0, SessionData: 0, KitChange: 0, live: 0 };
  /** The first purge (end of a simulated day) after `t`. */
  const purgeAfter = (t: number) => t0 + (Math.floor((t - t0) / DAY) + 1) * DAY;
  const result: YearResult = {
    t0, days, perDay, sessions: 0, signOuts: 0, users, implied, live: 0, snapshots: [], compact: {} as YearResult["compact"],
    purgeMs: [], purgeCpuMs: [], purgeStatements: [], purged: { expired: 0, deleted: 0, serverData: 0, changes: 0 }, insertSeconds: 0,
    maintenance: { vacuums: 0, analyzes: 0, seconds: 0, serverAutovacuum: "" },
  };
  const { workers, close } = await startWorkers(1, { url, issuer: options.issuer });
  const worker = workers[0]!;
  try {
    await withClient(url, async (c) => {
      const settings = Object.fromEntries((await c.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name LIKE 'autovacuum%'`)).rows.map((r) => [r.name, Number(r.setting)]));
      result.maintenance.serverAutovacuum = (await c.query<{ autovacuum: string }>("SHOW autovacuum")).rows[0]!.autovacuum;
      const vacuum = autovacuum(settings);
      let n = 0;
      for (let day = 0; day < days; day++) {
        const started = performance.now();
        const ids: string[] = [];
        const owners: string[] = [];
        const created: number[] = [];
        const lastSeen: number[] = [];
        for (let k = 0; k < perDay; k++, n++) {
          const id = idOf(n);
          const at = t0 + day * DAY + Math.floor(random() * DAY);
          const roll = random();
          const use = roll < MIX.longLived ? (30 + random() * 150) * DAY : Math.min(30 * DAY, -Math.log(1 - random()) * MEAN_USE_DAYS * DAY);
          // Used until `seen` (recorded at once: the purge's decisions as of any day are those of a
          // lastSeenAt touched along the way, since the session was in use then).
          const seen = at + Math.floor(use);
          ids.push(id);
          owners.push(options.userId(1 + (n % users)));
          created.push(at);
          lastSeen.push(seen);
          if (roll >= MIX.longLived && roll < MIX.longLived + MIX.signOut) {
            const onDay = Math.floor((seen - t0) / DAY);
            const bucket = signOutsOn.get(onDay) ?? { ids: [], at: [] };
            bucket.ids.push(id);
            bucket.at.push(seen);
            signOutsOn.set(onDay, bucket);
            // Deleted by the first purge more than keepFor after the sign-out; its data at the sign-out.
            if (seen >= end) {
              implied.live++;
              implied.SessionData++;
            }
            if (purgeAfter(seen + KEEP_FOR) > end) implied.UserSession++;
            if (seen < end && seen >= end - KEEP_CHANGES_FOR) implied.KitChange++;
          } else {
            // Marked expired by the first purge past its lifetime, deleted keepFor after that; its
            // data once past its expiry (lastSeenAt + the lifetime).
            const marked = purgeAfter(seen + MAX_AGE + EXPIRY_SLACK);
            if (marked > end) implied.live++;
            if (purgeAfter(marked + KEEP_FOR) > end) implied.UserSession++;
            if (seen + MAX_AGE >= end) implied.SessionData++;
          }
        }
        await c.query(`INSERT INTO "UserSession" ("id", "userId", "createdAt", "lastSeenAt") SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[])`, [ids, owners, created, lastSeen]);
        await c.query(`INSERT INTO "SessionData" ("key", "userId", "data", "expiresAt", "updatedAt")
          SELECT 's:' || s, u, $3::text, to_timestamp(e + ${MAX_AGE}), to_timestamp(c) FROM unnest($1::text[], $2::text[], $4::int[], $5::int[]) AS t(s, u, e, c)`, [ids, owners, data, lastSeen, created]);
        vacuum.wrote("UserSession", { inserted: perDay });
        vacuum.wrote("SessionData", { inserted: perDay });
        const out = signOutsOn.get(day);
        signOutsOn.delete(day);
        if (out) {
          // kit.sessions.revoke then the server data's removal, as Auth.js's signOut event runs them; one KitChange row each.
          const ended = await c.query(`UPDATE "UserSession" AS s SET "revokedAt" = t.at, "endedBy" = 'user' FROM unnest($1::text[], $2::int[]) AS t(id, at) WHERE s."id" = t.id AND s."revokedAt" IS NULL`, [out.ids, out.at]);
          const dropped = await c.query(`DELETE FROM "SessionData" WHERE "key" = ANY($1::text[])`, [out.ids.map((id) => `s:${id}`)]);
          await c.query(`INSERT INTO "KitChange" ("kind", "key", "at") SELECT 'session', k, a FROM unnest($1::text[], $2::int[]) AS t(k, a) ORDER BY a`, [out.ids, out.at]);
          vacuum.wrote("UserSession", { updated: ended.rowCount ?? 0 });
          vacuum.wrote("SessionData", { deleted: dropped.rowCount ?? 0 });
          vacuum.wrote("KitChange", { inserted: out.ids.length });
          result.signOuts += out.ids.length;
        }
        result.insertSeconds += (performance.now() - started) / 1000;
        const before = worker.statements();
        const purged = await worker.call<YearResult["purged"] & { ms: number; cpuMs: number }>("purge", { now: t0 + (day + 1) * DAY, keepFor: KEEP_FOR });
        result.purgeStatements.push(worker.statements() - before);
        result.purgeMs.push(purged.ms);
        result.purgeCpuMs.push(purged.cpuMs);
        for (const k of ["expired", "deleted", "serverData", "changes"] as const) result.purged[k] += purged[k];
        vacuum.wrote("UserSession", { updated: purged.expired, deleted: purged.deleted });
        vacuum.wrote("SessionData", { deleted: purged.serverData });
        vacuum.wrote("KitChange", { deleted: purged.changes });
        await vacuum.run(c);
        if (options.checkpoints.includes(day + 1)) {
          result.snapshots.push({ day: day + 1, tables: await sizes(c) });
          options.log(`retention: day ${day + 1}: ${Object.entries(result.snapshots.at(-1)!.tables).map(([t, s]) => `${t} ${s.rows}`).join(", ")}`);
        }
      }
      result.sessions = n;
      Object.assign(result.maintenance, vacuum.counts);
      result.live = Number((await c.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "UserSession" WHERE "revokedAt" IS NULL`)).rows[0]!.n);
      // What the tables hold once compacted (the floor under the size as run); purge-plans.ts keeps them as run.
      if (options.compact !== false) for (const t of TABLES) {
        await c.query(`VACUUM FULL "${t}"`);
        result.compact[t] = Number((await c.query<{ b: string }>(`SELECT pg_total_relation_size('"${t}"') AS b`)).rows[0]!.b);
      }
    });
  } finally {
    await close();
  }
  // The log always keeps its newest row.
  if (implied.KitChange === 0 && result.signOuts > 0) implied.KitChange = 1;
  return result;
}
