// Refresh under a provider outage (issue #23, item 3): token calls per grant while the bundled
// provider fails every refresh_token grant for 60 s, under 50 concurrent readers of that grant, and
// the time from the end of the outage to the first successful refresh. Every token call is real
// HTTP to the bundled oidc-provider in fault mode; the 60 s (and everything after) run on the
// kit's injected clock (virtual time), one tick per virtual second, so five outages do not take
// five minutes. Vault mode runs two instances (two oauthRefresh plugins) on one SQLite vault;
// cookie mode one process, every reader carrying the cookie as its last response left it.
//
//   npm run bench -- --only=outage       this table alone (saved as bench/results/<date>-refresh-outage.md)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { JWT } from "@auth/core/jwt";
import { claimsKit, oauthRefresh, type OAuthRefreshPlugin } from "../lib/claims-kit";
import { prismaTokenVault } from "../lib/claims-kit/prisma";
import { backoffStep } from "../lib/claims-kit/refresh/backoff";
import { createPrismaClient } from "../app/_lib/db-client";
import { migrateSqlite } from "../scripts/db-migrate";
import { devAuthorizationCodeFlow } from "../scripts/oidc/dev-login";
import { startOidcProvider, type FaultMode, type RunningOidcProvider } from "../scripts/oidc/provider";
import type { Table } from "./report";

const CLIENT = { clientId: "bench-outage", clientSecret: "bench-outage-secret" };
const REDIRECT = "http://localhost:3997/api/auth/callback/oidc";
const OUTAGE_SECONDS = 60;
const READERS = 50;
/** How long after the outage a run may take to recover before it is reported as not recovered (virtual s). */
const AFTER_LIMIT = 900;
const TIMEOUT_MS = 1000;
const GOAL_CALLS = 8;
const KINDS: Array<{ mode: FaultMode; label: string }> = [
  { mode: "500", label: "HTTP 500" },
  { mode: "timeout", label: `timeout (no answer; ${TIMEOUT_MS} ms wall per attempt)` },
  { mode: "invalid_client", label: "401 invalid_client, bare `WWW-Authenticate: Basic`" },
  { mode: "invalid_request", label: "400 invalid_request" },
  { mode: "drop", label: "dropped connection" },
];

/** A small seeded PRNG (mulberry32): the jitter, reproducible from run to run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  calls: number;
  /** Virtual seconds from the end of the outage to the first successful refresh; null: none within AFTER_LIMIT. */
  recoveredAfter: number | null;
  /** The back-off step in force for the attempt that recovered (or the stop's retry interval). */
  step: number | null;
  codes: string[];
  requests: number;
}

async function fault(provider: RunningOidcProvider, mode: FaultMode, count: number): Promise<void> {
  const response = await fetch(`${provider.issuer}/__dev/fault`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ mode, count }) });
  if (!response.ok) throw new Error(`fault injection failed: HTTP ${response.status}`);
}

/** One outage of one kind, in one mode: a fresh grant, fresh instances, the readers ticking along. */
async function outage(provider: RunningOidcProvider, prisma: ReturnType<typeof createPrismaClient>, mode: "vault" | "cookie", kind: FaultMode, index: number): Promise<Run> {
  const login = `outage${index}-${mode}+ttl60@example.com`;
  const tokens = await devAuthorizationCodeFlow({ issuer: provider.issuer, ...CLIENT, redirectUri: REDIRECT, login, scope: "openid offline_access", prompt: "consent" });
  if (!tokens.refresh_token) throw new Error("the sign-in brought no refresh token");
  let now = Date.now();
  const clock = () => now;
  const log = { info() {}, warn() {}, error() {} };
  const random = seeded(23 + index);
  const vault = prismaTokenVault(prisma);
  const options = { provider: "oidc", issuer: provider.issuer, ...CLIENT, timeoutMs: TIMEOUT_MS, logger: log, backoff: { random } };
  const instances: Array<{ kit: ReturnType<typeof claimsKit>; plugin: OAuthRefreshPlugin }> = (mode === "vault" ? [0, 1] : [0]).map(() => {
    const plugin = oauthRefresh(mode === "vault" ? { ...options, vault } : { ...options, mode: "cookie" });
    return { plugin, kit: claimsKit({ plugins: [plugin], clock, logger: log }) };
  });
  const user = await prisma.user.create({ data: { email: `outage${index}-${mode}@example.com` } });
  const expiresAt = Math.floor(now / 1000) + (tokens.expires_in ?? 60);
  const account = { provider: "oidc", type: "oidc" as const, providerAccountId: `outage-${index}-${mode}`, access_token: tokens.access_token, refresh_token: tokens.refresh_token, id_token: tokens.id_token, expires_at: expiresAt };
  if (mode === "vault") await prisma.account.create({ data: { userId: user.id, ...account } });
  // The cookie every reader sends: the last response's (as a browser keeps it).
  let cookie: JWT = (await instances[0]!.kit.callbacks.jwt({ token: { sub: user.id }, user: { id: user.id }, account, trigger: "signIn" }))!;

  // The access token has expired when the outage starts (the worst case: nothing left to serve).
  now = (expiresAt + 1) * 1000;
  const start = Math.floor(now / 1000);
  provider.reset();
  await fault(provider, kind, 1_000_000);
  const codes = new Set<string>();
  let requests = 0;
  let callsDuring = 0;
  let recoveredAfter: number | null = null;
  for (let t = 0; t < OUTAGE_SECONDS + AFTER_LIMIT && recoveredAfter === null; t++) {
    if (t === OUTAGE_SECONDS) {
      const stats = provider.stats();
      callsDuring = stats.faultsInjected + stats.refreshGrants;
      await fault(provider, "none", 0);
    }
    now = (start + t) * 1000;
    const successesBefore = provider.stats().refreshSuccess;
    const sent = cookie;
    const results = await Promise.all(Array.from({ length: READERS }, (_, i) => instances[i % instances.length]!.kit.callbacks.jwt({ token: sent })));
    requests += READERS;
    for (const r of results) {
      const code = (r?._k as { e?: { oauth?: { code?: string } } } | undefined)?.e?.oauth?.code;
      if (code) codes.add(code);
      if (r) cookie = r;
    }
    if (t >= OUTAGE_SECONDS && provider.stats().refreshSuccess > successesBefore) recoveredAfter = t - OUTAGE_SECONDS;
  }
  // The step in force for the recovering attempt: the back-off after the last failure recorded.
  let step: number | null = null;
  if (recoveredAfter !== null) {
    const failures = callsDuring;
    step = codes.has("client_error") ? 300 : backoffStep(failures, { initialSeconds: 1, maxSeconds: 300, random });
  }
  return { calls: callsDuring, recoveredAfter, step, codes: [...codes], requests };
}

/**
 * The outage table: per kind and mode, token calls during the 60 s and the time to the first
 * successful refresh after it, against the goals.
 */
export async function outageTable(): Promise<{ table: Table; runs: Record<string, Run> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "claims-kit-outage-"));
  const url = `file:${path.join(dir, "outage.db")}`;
  migrateSqlite(url, () => {});
  const prisma = createPrismaClient(url);
  const provider = await startOidcProvider({ port: 0, clients: [{ ...CLIENT, redirectUris: [REDIRECT] }] });
  const runs: Record<string, Run> = {};
  const rows: Array<Array<string | number>> = [];
  try {
    let index = 0;
    for (const { mode: kind, label } of KINDS) {
      for (const mode of ["vault", "cookie"] as const) {
        const run = await outage(provider, prisma, mode, kind, index++);
        runs[`${kind} ${mode}`] = run;
        const recovery = run.recoveredAfter === null
          ? run.codes.includes("invalid_grant") ? "never: stopped as invalid_grant (sign in again), by design" : `not within ${AFTER_LIMIT} s`
          : `${run.recoveredAfter} s (step in force ${run.step} s)`;
        rows.push([label, mode === "vault" ? "vault, 2 instances" : "cookie", run.calls, run.calls <= GOAL_CALLS ? "yes" : "NO", recovery, run.recoveredAfter === null || run.step === null || run.recoveredAfter <= run.step ? "yes" : "NO", run.codes.join(", ")]);
        process.stdout.write(".");
      }
    }
  } finally {
    await provider.close();
    await prisma.$disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    runs,
    table: {
      title: `Refresh under a ${OUTAGE_SECONDS} s provider outage, ${READERS} concurrent readers of one grant (bundled provider over HTTP; virtual time)`,
      columns: ["outage (every refresh_token grant answered with)", "mode", "token calls during the outage", `≤ ${GOAL_CALLS}`, "first successful refresh after the outage (virtual s)", "≤ step in force", "codes the readers saw"],
      numeric: [2],
      rows,
      notes: [
        `Each virtual second ${READERS} concurrent jwt() calls of the composed kit read one grant whose access token had expired when the outage began; the outage is the bundled provider's fault mode for ${OUTAGE_SECONDS} virtual seconds, then the faults are switched off and the readers go on until the first successful refresh. Token calls are counted by the provider (faults injected plus grants it answered). Jitter from a seeded PRNG; back-off 1 s doubling to 300 s; client_error waits clientErrorRetrySeconds (300 s).`,
      ],
    },
  };
}
