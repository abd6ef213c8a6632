// Helpers for driving `next start` processes over HTTP from the bench and the multi-process tests:
// a free port, waiting for the server to be ready, and a sign-in through the dev provider as a
// browser would make it.
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { CookieJar, devLoginAt } from "./oidc/dev-login";

/** A TCP port nothing listens on right now (127.0.0.1). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolve once `next start` logs that it is ready and `url` answers 2xx; reject if it exits or takes over a minute. */
export async function waitForNextReady(child: ChildProcess, label: string, url: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`${label}: next start not ready after 60 s: ${seen.slice(-500)}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (/Ready in/.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${label}: next start exited with ${code}: ${seen.slice(-500)}`));
    });
  });
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${label}: ${url} answered ${response.status}`);
}

/**
 * Sign `login` in to the app at `base` through its OIDC provider (the bundled dev provider's
 * login and consent forms), following Auth.js's endpoints as a browser would. Returns the cookie jar.
 */
export async function signInOverHttp(base: string, login: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const get = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: jar.header() } });
    jar.store(response);
    return response;
  };
  const { csrfToken } = (await (await get(`${base}/api/auth/csrf`)).json()) as { csrfToken: string };
  const start = await get(`${base}/api/auth/signin/oidc`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken, callbackUrl: `${base}/` }),
  });
  const authorize = start.headers.get("location");
  if (!authorize) throw new Error(`${base}: sign-in did not redirect (HTTP ${start.status})`);
  const callback = await devLoginAt(new URL(authorize), login, `${base}/api/auth/callback/oidc`);
  const done = await get(callback.toString());
  if (done.status !== 302) throw new Error(`${base}: callback answered HTTP ${done.status}`);
  return jar;
}
