// Step-up authentication for the dev provider: how a user authenticated (acr, amr) and when
// (auth_time), as a real provider reports them, and `acr_values` honoured (OIDC Core 3.1.2.1).
// oidc-provider already enforces `max_age` (a login prompt when its session is older); it has no
// notion of authentication levels, so this module adds two:
//   "pwd"  a login with a password              amr ["pwd"]
//   "mfa"  a password and a one-time code       amr ["pwd", "otp"]
// A request with `acr_values` containing "mfa" gets a login page with a one-time code field (any
// six digits pass), and the login prompt is repeated until the session's acr is one requested.
// A `+agedN` tag in the login backdates the authentication by N seconds (tests of stale sessions
// without waiting): `alice+aged600@example.com` signs in as alice, authenticated 10 minutes ago.
import type { IncomingMessage, ServerResponse } from "node:http";
import { interactionPolicy, type Configuration, type KoaContextWithOIDC, type Provider } from "oidc-provider";

/** The authentication context classes the dev provider issues, weakest first. */
export const DEV_ACR_VALUES = ["pwd", "mfa"] as const;

/** What the provider needs from its HTTP layer to take over a request. */
export interface InteractionHelpers {
  readBody(req: IncomingMessage): Promise<Buffer>;
  /** Hand a request whose body was read on to oidc-provider. */
  forward(req: IncomingMessage, body: Buffer, res: ServerResponse): Promise<void>;
  page(title: string, body: string): string;
  escapeHtml(value: string): string;
}

/** The acr_values an authorization request asked for. */
function requestedAcrs(params: Record<string, unknown> | undefined): string[] {
  const value = params?.acr_values;
  return typeof value === "string" ? value.split(" ").filter(Boolean) : [];
}

/** How many seconds a `+agedN` tag backdates the login by (0 without one). */
export function loginAge(login: string): number {
  const local = login.slice(0, login.lastIndexOf("@") === -1 ? login.length : login.lastIndexOf("@"));
  for (const tag of local.split("+").slice(1)) {
    const m = /^aged(\d{1,7})$/i.exec(tag);
    if (m) return Number(m[1]);
  }
  return 0;
}

/**
 * The configuration this module adds: the acr values it advertises (`acr_values_supported`) and a
 * login-prompt check that asks again while the session's acr is not one of `acr_values`.
 */
export function stepUpConfiguration(): Pick<Configuration, "acrValues" | "interactions"> {
  const policy = interactionPolicy.base();
  policy.get("login")?.checks.push(
    new interactionPolicy.Check("acr_values", "none of the requested ACRs could be obtained", (ctx: KoaContextWithOIDC) => {
      const requested = requestedAcrs(ctx.oidc?.params);
      if (requested.length === 0) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return requested.includes(String(ctx.oidc?.acr)) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return { acrValues: [...DEV_ACR_VALUES], interactions: { policy } };
}

/** Client metadata for step-up: `auth_time` in every id_token (else only when max_age is sent). */
export function stepUpClientMetadata(): { require_auth_time: true } {
  return { require_auth_time: true };
}

function mfaLoginPage(h: InteractionHelpers, uid: string, loginHint: unknown): string {
  const hint = typeof loginHint === "string" ? ` value="${h.escapeHtml(loginHint)}"` : "";
  return h.page(
    "Sign-in with a one-time code",
    `<p>This sign-in asks for a second factor (acr <code>mfa</code>). Any six digits will do.</p>
<form autocomplete="off" action="/interaction/${h.escapeHtml(uid)}" method="post">
<input type="hidden" name="prompt" value="login"/>
<p><input required type="text" name="login" placeholder="Enter any login"${hint} aria-label="Login"></p>
<p><input required type="password" name="password" placeholder="and password" aria-label="Password"></p>
<p><input required type="text" name="otp" inputmode="numeric" pattern="[0-9]{6}" placeholder="One-time code" aria-label="One-time code"></p>
<button type="submit">Sign-in</button>
</form>`,
  );
}

/**
 * Takes over oidc-provider's dev login where step-up needs it: the login page when `mfa` is asked
 * for, and every login submission (to record acr, amr and the login time). Returns whether it
 * answered the request.
 */
export async function handleStepUpInteraction(provider: Provider, h: InteractionHelpers, req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  const uid = /^\/interaction\/([\w-]+)$/.exec(path)?.[1];
  if (!uid) return false;
  if (req.method === "GET") {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== "login" || !requestedAcrs(details.params).includes("mfa")) return false;
    const html = mfaLoginPage(h, details.uid, details.params.login_hint);
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "content-length": Buffer.byteLength(html), "cache-control": "no-store" });
    res.end(html);
    return true;
  }
  if (req.method !== "POST") return false;
  const body = await h.readBody(req);
  const form = new URLSearchParams(body.toString("utf8"));
  if (form.get("prompt") !== "login") {
    await h.forward(req, body, res);
    return true;
  }
  const login = (form.get("login") ?? "").trim();
  if (!login || !form.get("password")) {
    res.writeHead(400, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    res.end("login and password are required");
    return true;
  }
  const otp = /^\d{6}$/.test(form.get("otp") ?? "");
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: login, acr: otp ? "mfa" : "pwd", amr: otp ? ["pwd", "otp"] : ["pwd"], ts: Math.floor(Date.now() / 1000) - loginAge(login) } },
    { mergeWithLastSubmission: false },
  );
  return true;
}
