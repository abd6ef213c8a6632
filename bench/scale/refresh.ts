// Section 4, refresh at scale: N users (1,000) whose access tokens all fell due within the same
// minute, each read by two of 4 processes at once (two tabs behind a load balancer), in vault mode
// (the reference app's default: tokens in the Account row, one refresh per grant under a lease).
// The provider is a token endpoint run here: it rotates every refresh token, counts calls, and
// counts any refresh token presented a second time (a provider with reuse detection would revoke
// the grant).
import { createServer, type Server } from "node:http";
import { fmt, type Table } from "../report";
import type { Context } from "./context";
import type { ReadResult } from "./worker";
import { cookieMaker, latestSeq, withClient } from "./seed";
import { seeded, spread } from "./util";

const PROCESSES = 4;
/** Users whose reads are in flight at once (each read by two processes). */
const CONCURRENCY = 8;

interface Endpoint {
  issuer: string;
  calls: number;
  reused: number;
  close(): Promise<void>;
}

/** Discovery and a refresh_token grant that rotates: grant `i`'s live token is `rt-<i>-<generation>`. */
async function tokenEndpoint(): Promise<Endpoint> {
  const live = new Map<string, number>();
  const state = { calls: 0, reused: 0 };
  let issuer = "";
  const server: Server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && req.url === "/.well-known/openid-configuration") {
      return json(200, { issuer, token_endpoint: `${issuer}/token`, authorization_endpoint: `${issuer}/auth`, jwks_uri: `${issuer}/jwks`, response_types_supported: ["code"], subject_types_supported: ["public"], id_token_signing_alg_values_supported: ["RS256"] });
    }
    if (req.method !== "POST" || req.url !== "/token") return json(404, { error: "not_found" });
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      state.calls++;
      const form = new URLSearchParams(body);
      const presented = form.get("refresh_token") ?? "";
      const match = /^rt-(\d+)-(\d+)$/.exec(presented);
      if (form.get("grant_type") !== "refresh_token" || !match) return json(400, { error: "invalid_request" });
      const grant = match[1]!;
      const generation = Number(match[2]);
      if ((live.get(grant) ?? 0) !== generation) {
        state.reused++;
        return json(400, { error: "invalid_grant", error_description: "refresh token already used" });
      }
      live.set(grant, generation + 1);
      json(200, { access_token: `at-${grant}-${generation + 1}`, token_type: "Bearer", expires_in: 3600, refresh_token: `rt-${grant}-${generation + 1}`, scope: "openid offline_access" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    issuer,
    get calls() {
      return state.calls;
    },
    get reused() {
      return state.reused;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function refreshTable(ctx: Context, users: number, log: (line: string) => void): Promise<Table> {
  const endpoint = await tokenEndpoint();
  const first = ctx.seeded + 1;
  await ctx.ensureSessions(ctx.seeded + users);
  const now = Math.floor(Date.now() / 1000);
  const random = seeded(users);
  // Every access token expired within the last minute: all due at once.
  const expiries = Array.from({ length: users }, () => now - 1 - Math.floor(random() * 59));
  await withClient(ctx.url, async (c) => {
    await c.query(`INSERT INTO "Account" ("id", "userId", "type", "provider", "providerAccountId", "refresh_token", "access_token", "expires_at", "token_type", "scope", "refreshedAt", "updatedAt")
      SELECT 'acct-' || i, 'b' || i, 'oidc', 'oidc', 'acct-' || i, 'rt-' || i || '-0', 'at-' || i || '-0', e, 'bearer', 'openid offline_access', e - 3600, now()
      FROM unnest($1::int[], $2::int[]) AS t(i, e)`, [Array.from({ length: users }, (_, k) => first + k), expiries]);
  });
  const position = await latestSeq(ctx.url);
  const { workers, close } = await ctx.workers(PROCESSES, { issuer: endpoint.issuer });
  try {
    // The cookie a sign-in an hour ago left: the vault hint (provider, account, expiry, issued).
    const makers = (k: number) => cookieMaker(ctx.template, { at: now, logPosition: position, overrides: () => ({ oauth: { p: "oidc", a: `acct-${first + k}`, e: expiries[k]!, i: expiries[k]! - 3600 } }) })(first + k);

    const pass = async (cookies: string[]) => {
      const results: Array<[ReadResult, ReadResult]> = new Array(users);
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < users) {
          const k = next++;
          const pair = [workers[k % PROCESSES]!, workers[(k + 1) % PROCESSES]!];
          results[k] = (await Promise.all(pair.map((w) => w.read(cookies[k]!)))) as [ReadResult, ReadResult];
        }
      }));
      return results;
    };
    const due = await Promise.all(Array.from({ length: users }, (_, k) => makers(k)));
    const callsBefore = endpoint.calls;
    const started = Date.now();
    const refreshed = await pass(due);
    const seconds = (Date.now() - started) / 1000;
    const calls = endpoint.calls - callsBefore;
    const refusedOrFailed = refreshed.flat().filter((r) => !r.signedIn).length;
    const vault = refreshed.flat().reduce((s, r) => s + (r.statements.vault ?? 0), 0);
    log(`refresh: ${calls} token calls, ${endpoint.reused} reused, ${vault} vault statements in ${fmt(seconds, 1)} s`);
    // The same reads again, nothing due: what a read costs without a refresh, under the same load.
    const baseline = await pass(refreshed.map(([a, b]) => a.cookie ?? b.cookie ?? ""));
    const stored = await withClient(ctx.url, async (c) => Number((await c.query<{ n: string }>(`SELECT COUNT(*) AS n FROM "Account" WHERE "providerAccountId" LIKE 'acct-%' AND "refresh_token" LIKE '%-1'`)).rows[0]!.n));
    const waited = spread(refreshed.flat().map((r) => r.ms));
    const firsts = spread(refreshed.map(([a, b]) => Math.min(a.ms, b.ms)));
    const seconds2 = spread(refreshed.map(([a, b]) => Math.max(a.ms, b.ms)));
    const plain = spread(baseline.flat().map((r) => r.ms));
    return {
      title: `Refresh at scale: ${users.toLocaleString("en-US")} users due in the same minute, over ${PROCESSES} processes (vault mode)`,
      columns: ["measure", "measured", "goal"],
      numeric: [],
      rows: [
        ["token endpoint calls", calls, `exactly ${users}: ${calls === users ? "met" : "NOT met"}`],
        ["refresh tokens presented twice", endpoint.reused, `0: ${endpoint.reused === 0 ? "met" : "NOT met"}`],
        ["Account rows holding the rotated refresh token afterwards", stored, `${users}`],
        ["reads refused or without a session", refusedOrFailed, "0"],
        ["vault statements per refresh (both readers' reads, every statement on Account)", fmt(vault / Math.max(1, calls), 1), "report"],
        ["read latency while refreshing (all reads), p50 / p99 / max ms", `${fmt(waited.p50, 1)} / ${fmt(waited.p99, 1)} / ${fmt(waited.max, 1)}`, "report"],
        ["… the faster of each user's two reads (mostly the one that called), p50 / p99 ms", `${fmt(firsts.p50, 1)} / ${fmt(firsts.p99, 1)}`, "report"],
        ["… the slower (mostly the one that waited for the other process), p50 / p99 ms", `${fmt(seconds2.p50, 1)} / ${fmt(seconds2.p99, 1)}`, "report"],
        ["the same reads with nothing due, p50 / p99 / max ms", `${fmt(plain.p50, 1)} / ${fmt(plain.p99, 1)} / ${fmt(plain.max, 1)}`, "report"],
        ["p99 latency a refresh adds to the read that waits for it", `${fmt(waited.p99 - plain.p99, 1)} ms`, "report"],
      ],
      notes: [
        `${users.toLocaleString("en-US")} seeded users with an Account row each (multi-row INSERT: refresh token rt-<n>-0, access token expired within the last minute) and cookies holding the vault hint. Each user's cookie is read by two processes at once (${CONCURRENCY} users in flight, ${users * 2} reads in ${fmt(seconds, 1)} s); every read waits for the refresh (one process calls the provider under the vault's lease, the other reads its result).`,
        "The provider is an in-process token endpoint (discovery + refresh_token grant over loopback HTTP, answering at once, rotating every refresh token, refusing any token presented twice); the latency is the kit's own: the lease, the vault statements, the HTTP round trip and the rest of the read, measured inside the worker process. The baseline is the same pass again with nothing due.",
        "Vault statements: the caller's read, lease, re-read under the lease and save (4), plus the waiting process's read and failed lease attempt every 100 ms while the other holds the lease (vault-mode.ts ensureFresh sleeps 100 ms between looks): the waiter's polls dominate the count, and the 100 ms step shows in the slower read's latency.",
      ],
    };
  } finally {
    await close();
    await endpoint.close();
  }
}

