// Section 6, worst cases: a paused process, a change log pruned past a process, and 10,000
// revocations at once. Each row: what happened, the statements the affected processes sent (their
// relays), and whether every revoked session was refused and every other one accepted.
import { fmt, type Table } from "../report";
import type { Context } from "./context";
import type { Worker } from "./pool";
import { withClient } from "./seed";
import { seeded, sleep } from "./util";

interface Outcome {
  label: string;
  setup: string;
  reads: number;
  statements: number;
  refusedRevoked: string;
  acceptedOthers: string;
  extra: string;
}

/** Fresh sessions `first..first+n-1` (seeded now) and their cookies, as signed in now. */
async function fresh(ctx: Context, n: number): Promise<{ first: number; cookies: string[] }> {
  const first = ctx.seeded + 1;
  await ctx.ensureSessions(ctx.seeded + n);
  const make = await ctx.cookies();
  return { first, cookies: await Promise.all(Array.from({ length: n }, (_, i) => make(first + i))) };
}

/** Read every cookie once in `w`: which were refused, and the statements `w` sent meanwhile. */
async function pass(w: Worker, cookies: string[]): Promise<{ refused: Set<number>; statements: number; cookies: string[] }> {
  const before = w.statements();
  const out = await w.call<{ cookies: Array<string | null> }>("readBatch", { cookies });
  const refused = new Set<number>();
  out.cookies.forEach((c, i) => c === null && refused.add(i));
  return { refused, statements: w.statements() - before, cookies: out.cookies.map((c, i) => c ?? cookies[i]!) };
}

function verdict(refused: Set<number>, revoked: Set<number>, total: number) {
  const refusedRevoked = [...revoked].filter((i) => refused.has(i)).length;
  const acceptedOthers = total - revoked.size - [...refused].filter((i) => !revoked.has(i)).length;
  return { refusedRevoked: `${refusedRevoked} of ${revoked.size}`, acceptedOthers: `${acceptedOthers} of ${total - revoked.size}` };
}

/** A: paused (SIGSTOP) while B revokes some sessions; its cookies aged `agoSeconds`; then A reads them all. */
async function paused(ctx: Context, n: number, pauseMs: number, agoSeconds: number): Promise<Outcome> {
  const { workers, close } = await ctx.workers(2);
  const [a, b] = workers as [Worker, Worker];
  try {
    const { first, cookies } = await fresh(ctx, n);
    await pass(a, cookies);
    // The same sessions' cookies as last checked and loaded `agoSeconds` before the resume.
    const make = await ctx.cookies(Math.floor(Date.now() / 1000) - agoSeconds);
    const aged = await Promise.all(Array.from({ length: n }, (_, i) => make(first + i)));
    const revoked = new Set(Array.from({ length: Math.ceil(n / 10) }, (_, k) => k * 10));
    a.pause();
    try {
      for (const i of revoked) await b.call("revoke", { sid: ctx.sessionId(first + i) });
      await sleep(pauseMs);
    } finally {
      a.resume();
    }
    const after = await pass(a, aged);
    const again = await pass(a, after.cookies);
    return {
      label: `a process paused (SIGSTOP ${fmt(pauseMs / 1000, 0)} s), its ${n} sessions' cookies ${agoSeconds / 60} min old`,
      setup: `${revoked.size} revoked by another process during the pause`,
      reads: n, statements: after.statements, ...verdict(after.refused, revoked, n),
      extra: `${fmt(after.statements / n, 2)} statements per read on the first pass after the pause, ${fmt(again.statements / n, 2)} on the second`,
    };
  } finally {
    await close();
  }
}

/** A: paused while B revokes and the log is pruned past A's position; then A reads everything. */
async function pruned(ctx: Context, n: number): Promise<Outcome> {
  const { workers, close } = await ctx.workers(2);
  const [a, b] = workers as [Worker, Worker];
  try {
    const { first, cookies } = await fresh(ctx, n);
    const primed = await pass(a, cookies);
    const revoked = new Set(Array.from({ length: Math.ceil(n / 10) }, (_, k) => k * 10 + 1));
    a.pause();
    let deleted = 0;
    try {
      for (const i of revoked) await b.call("revoke", { sid: ctx.sessionId(first + i) });
      // Pruned by age past A's last position: every row A has not read is gone; newer changes follow.
      deleted = await withClient(ctx.url, async (c) => (await c.query(`DELETE FROM "KitChange"`)).rowCount ?? 0);
      await b.call("revoke", { sid: ctx.sessionId(first + n - 1) });
      revoked.add(n - 1);
    } finally {
      a.resume();
    }
    await sleep(1500); // A's next log read (the safety poll, or the NOTIFY it missed while stopped)
    const after = await pass(a, primed.cookies);
    const again = await pass(a, after.cookies);
    return {
      label: `the change log pruned past a process's position (${deleted} rows deleted while it was stopped)`,
      setup: `${revoked.size} revoked meanwhile (${revoked.size - 1} of them only in the pruned rows)`,
      reads: n, statements: after.statements, ...verdict(after.refused, revoked, n),
      extra: `${fmt(after.statements / n, 2)} statements per read on the first pass (a full resync: every session read from the registry once), ${fmt(again.statements / n, 2)} on the second`,
    };
  } finally {
    await close();
  }
}

/** Bulk revocation as an admin action writes it: the registry rows and their change-log rows in one transaction, one NOTIFY. */
async function revokeInBulk(url: string, sids: string[]): Promise<void> {
  await withClient(url, async (c) => {
    const now = Math.floor(Date.now() / 1000);
    await c.query("BEGIN");
    await c.query(`UPDATE "UserSession" SET "revokedAt" = $2, "endedBy" = 'admin' WHERE "id" = ANY($1::text[]) AND "revokedAt" IS NULL`, [sids, now]);
    await c.query(`INSERT INTO "KitChange" ("kind", "key", "at") SELECT 'session', s, $2 FROM unnest($1::text[]) AS t(s)`, [sids, now]);
    await c.query("COMMIT");
    await c.query("NOTIFY claims_kit_changes");
  });
}

/**
 * `n` sessions revoked within one second while 4 processes hold them all, then how long until
 * every process refuses them. `viaKit`: that many more revoked through kit.sessions.revoke from the
 * 4 processes (8 at a time each), for the kit's own revocation rate.
 */
async function mass(ctx: Context, n: number, viaKit: number): Promise<Outcome> {
  const { workers, close } = await ctx.workers(4);
  try {
    const { first, cookies } = await fresh(ctx, n + viaKit);
    const sids = Array.from({ length: n }, (_, i) => ctx.sessionId(first + i));
    // Every process holds every session in its registry cache.
    await Promise.all(workers.map((w) => w.call("check", { sids, concurrency: 4 })));
    const rssBefore = (await Promise.all(workers.map((w) => w.stats()))).map((s) => s.rss);
    const relayBefore = workers.map((w) => w.statements());
    const start = Date.now();
    await revokeInBulk(ctx.url, sids);
    const end = Date.now();
    const random = seeded(n);
    const sample = Array.from({ length: 200 }, () => cookies[Math.floor(random() * n)]!);
    const agreed = await Promise.all(workers.map((w) => w.call<number | null>("untilAllRefused", { cookies: sample, timeoutMs: 60_000 })));
    if (agreed.some((t) => t === null)) throw new Error("worst: a process still accepted a revoked session 60 s after the revocations");
    const agreedAt = Math.max(...(agreed as number[]));
    const propagation = workers.reduce((s, w, k) => s + w.statements() - relayBefore[k]!, 0);
    const live = await Promise.all(workers.map((w) => w.call<number>("countLive", { sids })));
    const statements = workers.reduce((s, w, k) => s + w.statements() - relayBefore[k]!, 0);
    const stats = await Promise.all(workers.map((w) => w.stats()));
    const rssGrowth = Math.max(...stats.map((s, k) => (s.rss - rssBefore[k]!) / 2 ** 20));
    // The kit's own revocations, one call each (UPDATE, log append, NOTIFY).
    const kitSids = Array.from({ length: viaKit }, (_, i) => ctx.sessionId(first + n + i));
    const share = Math.ceil(viaKit / workers.length);
    const kitRuns = await Promise.all(workers.map((w, k) => w.call<{ at: number; done: number }>("revokeMany", { sids: kitSids.slice(k * share, (k + 1) * share), concurrency: 8 })));
    const kitSeconds = (Math.max(...kitRuns.map((r) => r.done)) - Math.min(...kitRuns.map((r) => r.at))) / 1000;
    return {
      label: `${n.toLocaleString("en-US")} revocations in one transaction (4 processes holding them all)`,
      setup: `written in ${fmt((end - start) / 1000, 2)} s (UPDATE UserSession + ${n.toLocaleString("en-US")} KitChange rows + one NOTIFY)`,
      reads: sample.length * workers.length, statements,
      refusedRevoked: `${n * workers.length - live.reduce((a, b) => a + b, 0)} of ${n * workers.length} (every process's registry cache asked about each)`,
      acceptedOthers: "—",
      extra: `every process refused a 200-session sample ${fmt((agreedAt - end) / 1000, 2)} s after the commit (${propagation} statements in the 4 processes until then: log reads of ${n.toLocaleString("en-US")} rows, the sample's registry reads); ${statements} with the check of all ${n.toLocaleString("en-US")} in each; RSS grew at most ${fmt(rssGrowth, 0)} MB in a process. Through kit.sessions.revoke one at a time (4 processes × 8 concurrent): ${viaKit} in ${fmt(kitSeconds, 1)} s = ${fmt(viaKit / kitSeconds, 0)}/s`,
    };
  } finally {
    await close();
  }
}

export async function worstTable(ctx: Context, scale: number, log: (line: string) => void): Promise<Table[]> {
  const full = scale >= 1;
  const n = full ? 1000 : 100;
  const outcomes = [await paused(ctx, n, full ? 20_000 : 3000, 10 * 60)];
  log("worst: paused done");
  outcomes.push(await pruned(ctx, n));
  log("worst: pruned done");
  outcomes.push(await mass(ctx, full ? 10_000 : 500, full ? 400 : 100));
  log("worst: mass revocation done");
  return [{
    title: "Worst cases: a paused process, a pruned change log, 10,000 revocations at once",
    columns: ["case", "meanwhile", "reads", "statements (affected processes)", "revoked sessions refused", "other sessions accepted", "bounded by"],
    numeric: [2, 3],
    rows: outcomes.map((o) => [o.label, o.setup, o.reads, o.statements, o.refusedRevoked, o.acceptedOthers, o.extra]),
    notes: [
      "Paused: a 10-minute pause is simulated, not waited for: the process is stopped with SIGSTOP for the time shown (its LISTEN connection and log position go stale, changes pile up in the log), and its sessions' cookies were sealed as last checked and loaded 10 minutes earlier, so every first read after the pause is past verifyEvery and the claims maxAge (300 s), as after a real 10-minute pause. Bound: one registry read and one claims reload per session (the reads table's statements per reload), then none.",
      "Pruned: while the process is stopped another process revokes sessions, every KitChange row is deleted (the prune of rows older than a day, run past this process), one more change is logged; on resume the process finds its last position gone, starts again from the log's end, forgets every cached session and trusts no cookie hint from before: each session is read from the registry once.",
      "Mass revocation: the 10,000 are written as one admin transaction would write them (the registry's UPDATE and one KitChange row each, then one NOTIFY), because kit.sessions.revoke, one call per session, cannot do 10,000 in a second here (its rate is in the last column). Agreement: each process refusing a 200-session sample of the revoked cookies through full reads; then every process's registry cache is asked about all 10,000.",
    ],
  }];
}
