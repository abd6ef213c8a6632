// Drives LemonLDAP::NG's real login, consent and logout pages over plain HTTP (fetch and a cookie
// jar), as a browser would submit them. Same shape as devLoginAt() in scripts/oidc/dev-login.ts,
// so a test can sign in through either provider. Never logs token values or passwords.

import { readFileSync } from "node:fs";
import { CookieJar } from "../oidc/dev-login";

export { CookieJar };

/** Which page of the portal a step showed. */
export type LlngPage = "login" | "consent";

export interface LlngLoginOptions {
  /** The portal's cookies (its browser session): pass the same jar to act as one browser. */
  jar?: CookieJar;
  /** Default: the login itself (the Demo backend's passwords). */
  password?: string;
  /** "refuse" presses the consent page's refuse button (the client then gets `consent_required`). */
  consent?: "accept" | "refuse";
  /** Called for every form page the portal showed, in order. */
  onForm?: (page: LlngPage) => void;
  /** Default 20. */
  maxSteps?: number;
}

export type LlngLoginErrorCode = "LLNG_LOGIN_HTTP" | "LLNG_LOGIN_NO_FORM" | "LLNG_LOGIN_REJECTED" | "LLNG_LOGIN_TOO_MANY_STEPS";

export class LlngLoginError extends Error {
  constructor(
    readonly code: LlngLoginErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "LlngLoginError";
  }
}

// ---------------------------------------------------------------------------------------------
// HTML forms
// ---------------------------------------------------------------------------------------------

interface Control {
  name: string;
  value: string;
  /** Submit buttons are sent only when pressed; unchecked checkboxes never. */
  kind: "field" | "submit" | "unchecked";
}

export interface ParsedForm {
  id: string | undefined;
  action: string;
  method: string;
  controls: Control[];
}

function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, "i").exec(tag);
  const raw = match?.[1] ?? match?.[2];
  return raw === undefined ? undefined : decodeEntities(raw);
}

function hasAttribute(tag: string, name: string): boolean {
  return new RegExp(`\\s${name}(\\s|=|/?>)`, "i").test(tag);
}

function controlOf(tag: string): Control | undefined {
  const name = attribute(tag, "name");
  if (!name) return undefined;
  const value = attribute(tag, "value") ?? "";
  const isButton = /^<button/i.test(tag);
  const type = (attribute(tag, "type") ?? (isButton ? "submit" : "text")).toLowerCase();
  if (type === "submit" || type === "image") return { name, value, kind: "submit" };
  if (isButton) return undefined; // type="button" or "reset": never submitted
  if ((type === "checkbox" || type === "radio") && !hasAttribute(tag, "checked")) return { name, value: value || "on", kind: "unchecked" };
  return { name, value, kind: "field" };
}

/** Every form of a page with its controls, in document order. */
export function parseForms(html: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, formAttributes = "", body = ""] = match;
    const controls: Control[] = [];
    for (const tag of body.match(/<(?:input|button)\b[^>]*>/gi) ?? []) {
      const control = controlOf(tag);
      if (control) controls.push(control);
    }
    forms.push({
      id: attribute(formAttributes, "id"),
      action: attribute(formAttributes, "action") ?? "",
      method: (attribute(formAttributes, "method") ?? "get").toLowerCase(),
      controls,
    });
  }
  return forms;
}

/** What a browser submits when a nameless submit button is pressed: fields and checked boxes. */
function submission(form: ParsedForm, overrides: Record<string, string>): URLSearchParams {
  const body = new URLSearchParams();
  for (const control of form.controls) {
    if (control.kind !== "field") continue;
    body.append(control.name, overrides[control.name] ?? control.value);
  }
  return body;
}

/** The `val` of the consent page's Refuse button (`-` followed by the confirm token). */
function refuseValue(html: string): string {
  const tag = /<button\b[^>]*\bid="refuse"[^>]*>/i.exec(html)?.[0];
  const value = tag === undefined ? undefined : attribute(tag, "val");
  if (!value) throw new LlngLoginError("LLNG_LOGIN_NO_FORM", "the consent page has no Refuse button");
  return value;
}

function has(form: ParsedForm, name: string, value?: string): boolean {
  return form.controls.some((c) => c.name === name && (value === undefined || c.value === value));
}

const PORTAL_LANGUAGE_FILE = "/usr/share/lemonldap-ng/portal/htdocs/static/languages/en.json";
let portalTexts: Record<string, unknown> | undefined;

/** The portal's English texts (its pages carry message codes that their script translates). */
function portalText(key: string): string | undefined {
  try {
    portalTexts ??= JSON.parse(readFileSync(PORTAL_LANGUAGE_FILE, "utf8")) as Record<string, unknown>;
  } catch {
    portalTexts = {};
  }
  const text = portalTexts[key];
  return typeof text === "string" ? text : undefined;
}

/** The portal's message box (wrong password, unknown client, ...), for error reports. */
function portalMessage(html: string): string {
  const box = /<div[^>]*class="[^"]*\bmessage\b[^"]*"[^>]*>([\s\S]*?)<\/div>/i.exec(html)?.[1] ?? "";
  // The box holds `<span trmsg="5">` (PE5), filled in by the page's script from the language file.
  const code = /trmsg="(\d+)"/.exec(box)?.[1];
  const text = decodeEntities(box.replace(/<[^>]+>/g, " ")).replace(/\s+/g, " ").trim();
  if (code !== undefined) return `PE${code} ${portalText(`PE${code}`) ?? ""}`.trim();
  return text || "(no message)";
}

// ---------------------------------------------------------------------------------------------
// Driving the portal
// ---------------------------------------------------------------------------------------------

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function sameEndpoint(candidate: URL, target: string): boolean {
  const expected = new URL(target);
  return candidate.origin === expected.origin && candidate.pathname === expected.pathname;
}

interface Step {
  url: URL;
  method: "GET" | "POST";
  body?: URLSearchParams;
}

async function request(step: Step, jar: CookieJar): Promise<Response> {
  const response = await fetch(step.url, {
    method: step.method,
    redirect: "manual",
    headers: {
      cookie: jar.header(),
      accept: "text/html,application/xhtml+xml",
      "accept-language": "en",
      ...(step.body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
    },
    body: step.body,
  });
  jar.store(response);
  return response;
}

type PortalPage = { kind: LlngPage; form: ParsedForm };

/** Which of the portal's forms a page shows: its login form (`#lform`) or a consent form (`#form`). */
function portalPage(html: string): PortalPage | undefined {
  const forms = parseForms(html);
  const login = forms.find((f) => has(f, "user") && has(f, "password"));
  if (login) return { kind: "login", form: login };
  const consent = forms.find((f) => has(f, "confirm"));
  return consent ? { kind: "consent", form: consent } : undefined;
}

/** The request a browser makes next on a portal page: its form, filled in and submitted. */
function submitPage(page: PortalPage, html: string, url: URL, login: string, options: LlngLoginOptions): Step {
  const target = new URL(page.form.action || url.href, url);
  if (page.kind === "login") {
    return { url: target, method: "POST", body: submission(page.form, { user: login, password: options.password ?? login }) };
  }
  // `confirm` is an encrypted token, not "1": Accept submits the form as it is; Refuse's button
  // carries "-<token>" in its `val` attribute, which the page's script copies into `confirm`.
  const refuse = options.consent === "refuse" ? refuseValue(html) : undefined;
  return { url: target, method: "POST", body: submission(page.form, refuse === undefined ? {} : { confirm: refuse }) };
}

/**
 * Signs `login` in at LemonLDAP from an authorization URL (built by any client, e.g. Auth.js),
 * accepting the consent page, until the portal redirects to `redirectUri`; returns that URL with
 * its `code` and `state` (or `error`). Each call is a fresh browser unless `options.jar` is given;
 * with a jar already signed in, the login form is skipped (SSO), consent is asked again only when
 * the client sends `prompt=consent` or new scopes.
 *
 * @example
 * const callback = await llngLoginAt(new URL(authorizeUrl), "dwho", `${APP_URL}/api/auth/callback/oidc`);
 * callback.searchParams.get("code");
 */
export async function llngLoginAt(authorize: URL, login: string, redirectUri: string, options: LlngLoginOptions = {}): Promise<URL> {
  const jar = options.jar ?? new CookieJar();
  let step: Step = { url: authorize, method: "GET" };
  let logins = 0;
  const maxSteps = options.maxSteps ?? 20;

  for (let i = 0; i < maxSteps; i += 1) {
    const response = await request(step, jar);
    if (isRedirect(response.status)) {
      await response.body?.cancel();
      const location = response.headers.get("location");
      if (!location) throw new LlngLoginError("LLNG_LOGIN_HTTP", `redirect without location from ${step.url.pathname}`);
      const next = new URL(location, step.url);
      if (sameEndpoint(next, redirectUri)) return next;
      step = { url: next, method: "GET" };
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) {
      throw new LlngLoginError("LLNG_LOGIN_HTTP", `HTTP ${response.status} from ${step.url.pathname}: ${portalMessage(html)}`);
    }
    const page = portalPage(html);
    if (!page) throw new LlngLoginError("LLNG_LOGIN_NO_FORM", `no login or consent form on ${step.url.pathname}: ${portalMessage(html)}`);
    // The login form again after submitting it: the portal refused the credentials.
    if (page.kind === "login" && (logins += 1) > 1) {
      throw new LlngLoginError("LLNG_LOGIN_REJECTED", `the portal refused the login ${JSON.stringify(login)}: ${portalMessage(html)}`);
    }
    options.onForm?.(page.kind);
    step = submitPage(page, html, step.url, login, options);
  }
  throw new LlngLoginError("LLNG_LOGIN_TOO_MANY_STEPS", `the portal did not redirect to ${redirectUri} within ${maxSteps} steps`);
}

export interface LlngLogoutResult {
  /** Where the browser ended: the post_logout_redirect_uri (with `state`), or a portal page. */
  url: URL;
  /** HTTP status of that last response (a redirect to the client, or 200 of a portal page). */
  status: number;
  /** Whether the portal asked "Do you want to logout?" (unless the client has LogoutBypassConfirm). */
  confirmed: boolean;
  /** When the browser stopped on a portal page: the form it shows (2.16.1 ends on its login form). */
  portalPage: LlngPage | undefined;
}

/**
 * Follows an RP-initiated logout (the end_session URL a client built, with `id_token_hint` and
 * `post_logout_redirect_uri`) as a browser holding `jar` would, accepting the portal's logout
 * confirmation, until it leaves the portal (a redirect to `postLogoutRedirectUri`) or stops on a
 * portal page. LemonLDAP 2.16.1 ends on its own login page ("Authentication required") instead of
 * `post_logout_redirect_uri` unless the instance runs with `fixLogoutRedirect` (see llng.ts).
 */
export async function llngLogoutAt(endSession: URL, jar: CookieJar, postLogoutRedirectUri?: string, options: { maxSteps?: number } = {}): Promise<LlngLogoutResult> {
  let step: Step = { url: endSession, method: "GET" };
  let confirmed = false;
  for (let i = 0; i < (options.maxSteps ?? 10); i += 1) {
    const response = await request(step, jar);
    if (isRedirect(response.status)) {
      await response.body?.cancel();
      const next = new URL(response.headers.get("location") ?? "/", step.url);
      const leftPortal = postLogoutRedirectUri ? sameEndpoint(next, postLogoutRedirectUri) : next.origin !== endSession.origin;
      if (leftPortal) return { url: next, status: response.status, confirmed, portalPage: undefined };
      step = { url: next, method: "GET" };
      continue;
    }
    const html = await response.text();
    const page = portalPage(html);
    // Only the logout confirmation is answered; any other page (or a second one) is where it ends.
    if (response.status !== 200 || page?.kind !== "consent" || confirmed) {
      return { url: step.url, status: response.status, confirmed, portalPage: page?.kind };
    }
    // As on the consent page, `confirm` holds a token: submitting the form as it is confirms.
    confirmed = true;
    step = { url: new URL(page.form.action || step.url.href, step.url), method: "POST", body: submission(page.form, {}) };
  }
  throw new LlngLoginError("LLNG_LOGIN_TOO_MANY_STEPS", "the logout did not finish within the step limit");
}
