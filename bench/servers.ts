// The two apps under test, built and started by the bench: the reference app (`next build` via
// scripts/build-if-stale.sh, a fresh migrated and seeded SQLite database) and the plain Auth.js
// baseline in bench/baseline. One in-process OIDC provider serves both; a user signs in to each
// over HTTP, as a browser would, so each app writes its own cookie (and the reference app its
// session row).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort, signInOverHttp, waitForNextReady } from "../scripts/next-server";
import { startOidcProvider } from "../scripts/oidc/provider";
import { ROOT } from "./report";

export { freePort };
export const SESSION_COOKIE = "authjs.session-token";
const BASELINE_DIR = path.join(ROOT, "bench", "baseline");
/** Must match distDir in bench/baseline/next.config.mjs. */
const BASELINE_DIST = path.join(ROOT, "node_modules", ".cache", "claims-kit-bench", "baseline");
/** Both apps' AUTH_SECRET: a throwaway, so the bench can read the cookies they write. */
export const BENCH_SECRET = "bench-secret-0123456789abcdef0123456789-do-not-use";

export interface App {
  name: "baseline" | "reference";
  url: string;
  /** The `next` CLI process; its descendants serve the requests. */
  process: ChildProcess;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function run(label: string, command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) {
    throw new Error(`${label} failed (exit ${result.status}):\n${`${result.stdout}\n${result.stderr}`.trim().split("\n").slice(-30).join("\n")}`);
  }
  console.error(`bench: ${label} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** Build both apps when their sources changed since the last build (as scripts/build-if-stale.sh does). */
export function buildApps(): void {
  const buildId = path.join(BASELINE_DIST, "BUILD_ID");
  const lock = path.join(ROOT, "package-lock.json");
  const stale = !existsSync(buildId) || Math.max(newestMtime(BASELINE_DIR), statSync(lock).mtimeMs) > statSync(buildId).mtimeMs;
  // An empty environment, like the reference app's build: both read their settings at run time.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" };
  if (stale) run("next build (baseline)", path.join(ROOT, "node_modules/.bin/next"), ["build"], BASELINE_DIR, env);
  buildReference();
}

/** Build the reference app alone when its sources changed (scripts/build-if-stale.sh). */
export function buildReference(): void {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" };
  run("scripts/build-if-stale.sh (reference app)", "bash", [path.join(ROOT, "scripts/build-if-stale.sh")], ROOT, { ...process.env, ...env });
}

/** A migrated, seeded SQLite database of its own, and how to remove it. */
async function freshDatabase(): Promise<{ url: string; drop: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), "claims-kit-bench-"));
  const url = `file:${path.join(dir, "bench.db")}`;
  const { migrateSqlite } = await import("../scripts/db-migrate");
  migrateSqlite(url, () => {});
  const { createPrismaClient } = await import("../app/_lib/db-client");
  const { seed } = await import("../prisma/seed-data");
  const prisma = createPrismaClient(url);
  await seed(prisma);
  await prisma.$disconnect();
  return { url, drop: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Sign `login` in through `app` with the bundled provider; returns the session cookie(s), as a Cookie header. */
export async function signIn(app: App, login: string): Promise<string> {
  const jar = await signInOverHttp(app.url, login);
  const session = jar.names().filter((name) => name.startsWith(SESSION_COOKIE));
  if (session.length === 0) throw new Error(`${app.name}: signed in, but no session cookie was set`);
  return session.map((name) => `${name}=${jar.get(name)}`).join("; ");
}

/**
 * `next start` for the app in `dir` on `port`, pushed onto `started` as soon as it is spawned (so a
 * caller's cleanup stops it even when it never gets ready); resolves once it answers.
 */
export async function startNext(name: App["name"], dir: string, port: number, env: NodeJS.ProcessEnv, started: App[]): Promise<App> {
  // Served over plain http on a port of the bench's choosing.
  const childEnv: NodeJS.ProcessEnv = { ...env };
  delete childEnv.AUTH_URL;
  const child = spawn(path.join(ROOT, "node_modules/.bin/next"), ["start", "-p", String(port), "-H", "localhost"], {
    cwd: dir,
    env: childEnv,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const app: App = { name, url: `http://localhost:${port}`, process: child };
  started.push(app);
  await waitForNextReady(child, name, `${app.url}/api/auth/providers`);
  // Keep draining its output once it is up, so a chatty server never blocks on a full pipe.
  child.stdout!.resume();
  return app;
}

/** Both apps running, each with a signed-in cookie; `stop()` ends everything this started. */
export async function startApps(login: string): Promise<{ apps: App[]; cookies: Map<App, string>; stop: () => Promise<void> }> {
  const ports = { baseline: await freePort(), reference: await freePort() };
  const clients = (["baseline", "reference"] as const).map((name) => ({
    clientId: `bench-${name}`,
    clientSecret: `bench-${name}-secret`,
    redirectUris: [`http://localhost:${ports[name]}/api/auth/callback/oidc`],
  }));
  const provider = await startOidcProvider({ port: 0, clients, logger: () => {} });
  const db = await freshDatabase();
  const apps: App[] = [];
  const stop = async () => {
    for (const app of apps) app.process.kill("SIGTERM");
    await Promise.all(apps.map((app) => (app.process.exitCode !== null ? null : new Promise((r) => app.process.once("exit", r)))));
    await provider.close();
    db.drop();
  };
  try {
    for (const [name, dir] of [["baseline", BASELINE_DIR], ["reference", ROOT]] as const) {
      const client = clients.find((c) => c.clientId === `bench-${name}`)!;
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
        DATABASE_URL: db.url,
        AUTH_SECRET: BENCH_SECRET,
        AUTH_TRUST_HOST: "true",
        AUTH_OIDC_ISSUER: provider.issuer,
        AUTH_OIDC_ID: client.clientId,
        AUTH_OIDC_SECRET: client.clientSecret,
      };
      await startNext(name, dir, ports[name], env, apps);
    }
    const cookies = new Map<App, string>();
    for (const app of apps) cookies.set(app, await signIn(app, login));
    return { apps, cookies, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
