// Auth.js's database strategy (issue #25): one session read, `GET /api/auth/session` with a
// session-token cookie, through the kit's route (the reference app's configuration, built by the
// integration harness: its real Auth.js config, the Prisma adapter, SQLite, the dev provider) and
// through plain Auth.js with the Prisma adapter and database sessions, written as Auth.js's guides
// write it (`session({ session, user })` copies the user's id and role). Both read the same Session
// and User rows of the same database through the same Prisma client, in one process, in paired
// rounds (the kit's reads, then Auth.js's, back to back): CPU µs per read, and every SQL statement
// each side ran, counted by the client's query log.
import { Auth, type AuthConfig } from "@auth/core";
import { PrismaAdapter } from "@auth/prisma-adapter";
import { guardedHandlers } from "../lib/claims-kit/next/internal/handlers";
import { startHarness } from "../tests/integration/harness";
import { fmt, median, type Table } from "./report";
import { timeMedian, type Cost } from "./timing";

const URL_SESSION = "http://localhost:3999/api/auth/session";

export interface DatabaseResult {
  table: Table;
  /** Median of the paired CPU ratios (kit ÷ Auth.js). */
  ratio: number;
  queriesPerRead: { kit: number; authjs: number };
  rounds: number[];
}

export async function databaseTable(options: { reads: number; rounds: number }): Promise<DatabaseResult> {
  const h = await startHarness({ strategy: "database" });
  try {
    const browser = h.browser();
    await browser.signIn("alice@example.com");
    const token = browser.jar.get("authjs.session-token");
    if (!token) throw new Error("the sign-in left no session-token cookie");
    const plain: AuthConfig = {
      adapter: PrismaAdapter(h.prisma),
      providers: h.config.providers,
      session: { strategy: "database" },
      secret: h.config.secret,
      basePath: "/api/auth",
      trustHost: true,
      callbacks: {
        session({ session, user }) {
          return { ...session, user: { ...session.user, id: user.id, role: (user as { role?: string }).role } };
        },
      },
    };
    const request = () => new Request(URL_SESSION, { headers: { cookie: `authjs.session-token=${token}` } });
    // The reference app's route: Auth.js's handlers behind the kit's guard and its CSRF-free session read.
    const route = guardedHandlers({ GET: (r: Request) => Auth(r, h.config), POST: (r: Request) => Auth(r, h.config) }, { config: h.config });
    const kitRead = async () => {
      const response = await route.GET(request());
      if (response.status !== 200) throw new Error(`kit read: HTTP ${response.status}`);
      await response.text();
    };
    const plainRead = async () => {
      const response = await Auth(request(), plain);
      if (response.status !== 200) throw new Error(`Auth.js read: HTTP ${response.status}`);
      await response.text();
    };
    // Both sides read the same signed-in session (claims on the kit's side, the role on Auth.js's).
    const kitBody = (await (await route.GET(request())).json()) as { claims?: { role?: string } } | null;
    const plainBody = (await (await Auth(request(), plain)).json()) as { user?: { role?: string } } | null;
    if (!kitBody?.claims?.role || !plainBody?.user?.role) throw new Error("a side read no session: the comparison would be empty");

    // Statements per steady-state read, after one warm read on each side.
    const countQueries = async (read: () => Promise<void>, n: number) => {
      await read();
      h.takeQueries();
      for (let i = 0; i < n; i++) await read();
      return h.takeQueries().length / n;
    };
    const queriesPerRead = { kit: await countQueries(kitRead, 50), authjs: await countQueries(plainRead, 50) };

    const pairs: Array<[Cost, Cost]> = [];
    for (let r = 0; r < options.rounds; r++) pairs.push([await timeMedian(1, options.reads, kitRead), await timeMedian(1, options.reads, plainRead)]);
    const rounds = pairs.map(([kit, authjs]) => kit.cpu / authjs.cpu);
    const med = (side: 0 | 1, key: keyof Cost) => median(pairs.map((p) => p[side][key]));
    const ratio = median(rounds);
    const table: Table = {
      title: `Database strategy: one session read (GET /api/auth/session), ${options.reads} reads × ${options.rounds} paired rounds, SQLite`,
      columns: ["", "CPU µs per read", "wall µs per read", "SQL statements per read"],
      numeric: [1, 2, 3],
      rows: [
        ["plain Auth.js (Prisma adapter, database sessions)", fmt(med(1, "cpu"), 0), fmt(med(1, "wall"), 0), fmt(queriesPerRead.authjs, 2)],
        ["claims-kit (the reference app's config)", fmt(med(0, "cpu"), 0), fmt(med(0, "wall"), 0), fmt(queriesPerRead.kit, 2)],
        ["ratio (CPU, median of the paired rounds)", `${fmt(ratio, 2)}x`, "", ""],
      ],
      notes: [
        "Both in one process, through @auth/core's Auth() (the kit's side through guardedHandlers, as the app's route serves it), on the same Session and User rows through the same Prisma client.",
        "SQL statements: every statement the Prisma client logged during 50 steady-state reads, divided by 50 (Auth.js's own: the session with its user).",
        `Paired CPU ratios per round: ${rounds.map((x) => fmt(x, 2)).join(", ")}.`,
      ],
    };
    return { table, ratio, queriesPerRead, rounds };
  } finally {
    await h.close();
  }
}
