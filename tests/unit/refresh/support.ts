// What the oauthRefresh() tests share: a fake token endpoint, a recording logger, the plugin's base
// options and a jwt() context.
/** A fake token endpoint: counts calls, rotates, can be told to fail. */
export function fakeProvider() {
  const state = { calls: 0, next: 1, failWith: null as null | number, clientError: false, live: "r0", presented: [] as string[] };
  const fetcher = (async (_url: string | URL | Request, init?: RequestInit) => {
    state.calls++;
    await new Promise((r) => setTimeout(r, 5));
    const presented = new URLSearchParams(String(init?.body)).get("refresh_token") ?? "";
    state.presented.push(presented);
    if (state.failWith) return new Response(JSON.stringify({ error: "server_error" }), { status: state.failWith });
    if (state.clientError) return new Response(JSON.stringify({ error: "invalid_client" }), { status: 401 });
    if (presented !== state.live) return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 });
    state.live = `r${state.next}`;
    return new Response(JSON.stringify({ access_token: `a${state.next++}`, refresh_token: state.live, expires_in: 60 }), { status: 200 });
  }) as typeof fetch;
  return { state, fetcher };
}

/** A logger that keeps what it is given, to check what gets logged (and that no token does). */
export function recordingLog() {
  const lines: Array<{ level: "info" | "warn" | "error"; message: string }> = [];
  return {
    lines,
    errors: () => lines.filter((l) => l.level === "error").map((l) => l.message),
    info: (message: string) => void lines.push({ level: "info", message }),
    warn: (message: string) => void lines.push({ level: "warn", message }),
    error: (message: string) => void lines.push({ level: "error", message }),
  };
}

export const log = { info() {}, warn() {}, error() {} };
export const base = { provider: "oidc", tokenEndpoint: "https://idp.example/token", clientId: "app", clientSecret: "s", logger: log };

/** A jwt() context; `reports` collects what the plugin reported with ctx.report(). */
export function context(token: Record<string, unknown>, now: number) {
  const reports: string[] = [];
  return { ctx: { token, userId: "u", now, log, trigger: undefined, report: (code: string) => void reports.push(code) }, reports };
}
export const vaultToken = (e: number, i: number) => ({ sub: "u", oauth: { p: "oidc", a: "u1", e, i } });

/** A token endpoint that rotates, and revokes the grant when a consumed refresh token comes back. */
export function rotatingProvider() {
  const state = { calls: 0, next: 1, live: "r0", presented: [] as string[], reused: 0 };
  const fetcher = (async (_url: string | URL | Request, init?: RequestInit) => {
    state.calls++;
    const presented = new URLSearchParams(String(init?.body)).get("refresh_token") ?? "";
    state.presented.push(presented);
    if (presented !== state.live) {
      state.reused++;
      state.live = "revoked";
      return new Response(JSON.stringify({ error: "invalid_grant" }), { status: 400 });
    }
    state.live = `r${state.next}`;
    return new Response(JSON.stringify({ access_token: `a${state.next++}`, refresh_token: state.live, expires_in: 60 }), { status: 200 });
  }) as typeof fetch;
  return { state, fetcher };
}
