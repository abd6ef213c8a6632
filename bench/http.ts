// Server CPU per request, the two apps side by side: the CPU time (utime + stime from /proc) of
// each `next start` process tree over a fixed number of requests with a signed-in cookie, in
// paired rounds (baseline and reference back to back, the order alternating), medians reported.
// CPU time rather than latency: the load generator shares the machine, and CPU is what a request
// costs the server whatever else runs.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { decode } from "@auth/core/jwt";
import { cookieBytes } from "./cookie";
import { fmt, median, type Table } from "./report";
import { BENCH_SECRET, SESSION_COOKIE, startApps, type App } from "./servers";

export interface HttpSettings {
  /** Requests per batch for the session endpoint. */
  requests: number;
  /** Requests per batch for the page (a render costs about three session reads). */
  pageRequests: number;
  rounds: number;
  concurrency: number;
  warmup: number;
}

export interface Endpoint {
  label: string;
  path: string;
  requests(settings: HttpSettings): number;
  /** The response shows the signed-in user (a signed-out answer would measure the wrong thing). */
  signedIn(body: string): boolean;
}

export const LOGIN = "alice@example.com";
export const ENDPOINTS: Endpoint[] = [
  { label: "GET /api/auth/session", path: "/api/auth/session", requests: (s) => s.requests, signedIn: (body) => body.includes(`"email":"${LOGIN}"`) },
  { label: "GET / (page: proxy + layout + page)", path: "/", requests: (s) => s.pageRequests, signedIn: (body) => body.includes(LOGIN) },
];

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** CPU seconds used so far by `root` and every process below it. */
function treeCpuSeconds(root: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Fields after "(comm)": state, ppid, ..., utime (14th field), stime (15th).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    parent.set(Number(entry), Number(fields[1]));
    ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
  }
  let total = 0;
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        total += t;
        break;
      }
    }
  }
  return total / CLOCK_TICKS;
}

/** The app's session cookie as a browser keeps it: replaced by every Set-Cookie the app sends. */
export class SessionCookie {
  private readonly values = new Map<string, string>();
  constructor(header: string) {
    for (const pair of header.split("; ")) {
      const eq = pair.indexOf("=");
      this.values.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.values].map(([name, value]) => `${name}=${value}`).join("; ");
  }
  update(setCookies: string[] | undefined): void {
    for (const line of setCookies ?? []) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      if (!name.startsWith(SESSION_COOKIE)) continue;
      const value = pair.slice(eq + 1);
      if (value === "" || /max-age=0(;|$)/i.test(line)) this.values.delete(name);
      else this.values.set(name, value);
    }
  }
}

/** `n` GET requests, `concurrency` at a time over keep-alive connections; counts signed-out answers. */
export async function load(app: App, endpoint: Endpoint, cookie: SessionCookie, n: number, concurrency: number): Promise<{ seconds: number; failures: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(endpoint.path, app.url);
  let issued = 0;
  let failures = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.get(url, { agent, headers: { cookie: cookie.header(), accept: "text/html,application/json" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          cookie.update(res.headers["set-cookie"]);
          if (res.statusCode !== 200 || !endpoint.signedIn(Buffer.concat(chunks).toString())) failures += 1;
          resolve();
        });
        res.on("error", reject);
      });
      req.on("error", reject);
    });
  const worker = async () => {
    while (issued < n) {
      issued += 1;
      await one();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { seconds, failures };
}

interface Batch {
  cpuUs: number;
  rps: number;
}

async function batch(app: App, endpoint: Endpoint, cookie: SessionCookie, settings: HttpSettings): Promise<Batch> {
  const n = endpoint.requests(settings);
  const before = treeCpuSeconds(app.process.pid!);
  const { seconds, failures } = await load(app, endpoint, cookie, n, settings.concurrency);
  const cpu = treeCpuSeconds(app.process.pid!) - before;
  if (failures > 0) throw new Error(`${app.name} ${endpoint.path}: ${failures} of ${n} responses were not a signed-in 200`);
  return { cpuUs: (cpu / n) * 1e6, rps: n / seconds };
}

export interface HttpResult {
  tables: Table[];
  /** Reference / baseline CPU per request, per endpoint path (median of the rounds' ratios). */
  ratios: Record<string, number>;
  /** Every round's ratio, per endpoint path. */
  rounds: Record<string, number[]>;
  /** The reference app's decoded session token (real claims for the codec benchmark). */
  referenceClaims: Record<string, unknown> | null;
}

/** Start both apps, sign alice in to each, and measure every endpoint in paired rounds. */
export async function httpTables(settings: HttpSettings): Promise<HttpResult> {
  const { apps, cookies, stop } = await startApps(LOGIN);
  try {
    const [baseline, reference] = apps as [App, App];
    const jars = new Map(apps.map((app) => [app, new SessionCookie(cookies.get(app)!)]));
    const bytes = apps.map((app) => {
      const value = cookies.get(app)!.split("; ").map((pair) => pair.slice(pair.indexOf("=") + 1)).join("");
      return cookieBytes(value);
    });
    const referenceClaims = await decode({
      token: cookies.get(reference)!.split("; ").map((pair) => pair.slice(pair.indexOf("=") + 1)).join(""),
      secret: BENCH_SECRET,
      salt: SESSION_COOKIE,
    }).catch(() => null);

    const cpu: Table = {
      title: `Server CPU per request, signed in as ${LOGIN} (${settings.concurrency} requests at a time, median of ${settings.rounds} paired rounds)`,
      columns: ["request", "per batch", "baseline µs CPU", "reference µs CPU", "reference / baseline", "baseline req/s", "reference req/s"],
      numeric: [1, 2, 3, 4, 5, 6],
      rows: [],
      notes: [
        `Session cookie: baseline ${bytes[0]!.bytes} B in ${bytes[0]!.chunks} chunk(s) (tokens in the JWT), reference ${bytes[1]!.bytes} B in ${bytes[1]!.chunks} (Cookie header bytes).`,
        "Baseline: bench/baseline, plain Auth.js with the guide's hand-written callbacks and Auth.js's codec, no database. Reference: this repository's app.",
      ],
    };
    const ratios: Record<string, number> = {};
    const rounds: Record<string, number[]> = {};
    for (const endpoint of ENDPOINTS) {
      for (const app of apps) await load(app, endpoint, jars.get(app)!, settings.warmup, settings.concurrency);
      const results = new Map<App, Batch[]>(apps.map((app) => [app, []]));
      const paired: number[] = [];
      for (let round = 0; round < settings.rounds; round++) {
        const order = round % 2 === 0 ? [baseline, reference] : [reference, baseline];
        for (const app of order) results.get(app)!.push(await batch(app, endpoint, jars.get(app)!, settings));
        paired.push(results.get(reference)!.at(-1)!.cpuUs / results.get(baseline)!.at(-1)!.cpuUs);
      }
      const med = (app: App, key: keyof Batch) => median(results.get(app)!.map((b) => b[key]));
      ratios[endpoint.path] = median(paired);
      rounds[endpoint.path] = paired.map((r) => Number(r.toFixed(3)));
      cpu.rows.push([
        endpoint.label,
        endpoint.requests(settings),
        fmt(med(baseline, "cpuUs")),
        fmt(med(reference, "cpuUs")),
        `${fmt(median(paired), 2)}x`,
        fmt(med(baseline, "rps")),
        fmt(med(reference, "rps")),
      ]);
      console.error(`bench: ${endpoint.path}: rounds ${paired.map((r) => r.toFixed(2)).join(", ")}`);
    }
    return { tables: [cpu], ratios, rounds, referenceClaims };
  } finally {
    await stop();
  }
}
