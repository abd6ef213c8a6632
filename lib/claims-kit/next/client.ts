"use client";
/**
 * claims-kit/next/client: the client components' side (`"use client"`): `useClaims()` (the typed
 * session, update intents, `refresh()`), `SessionSync` (every tab and the server tree follow a
 * session change) and `useReauthOnRevokedGrant()`.
 *
 * @packageDocumentation
 * @module claims-kit/next/client
 */
import type { Result } from "../engine/errors";
import { kindOf } from "../engine/kinds";
import { useCallback, useEffect, useRef, useState } from "react";
import { signIn, useSession } from "next-auth/react";
import type { IntentsOfKit, SessionOf } from "../engine/kit";
import type { KitSession } from "../engine/types";

/** Outcome of an update intent as the client sees it. */
export type IntentResult<S> = Result<{ session: S }, string>;

type InputArgs<T> = undefined extends T ? [input?: T] : [input: T];

function nonce(): string {
  // Correlates a request with its answer only; not a secret.
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * `useSession()` typed with the kit's session, plus `run(intent, input)`: a typed wrapper over
 * `update()` that sends a named intent and reports the server's verdict (`ok`, or the error code),
 * and `refresh()`: re-derive every claim on the server (what a bare `update()` should have done).
 * One type parameter, the kit's type, by a type-only import, so nothing server-side is bundled:
 * `useClaims<AppKit>()` (with `export type AppKit = typeof kit` next to your `claimsKit()` call).
 *
 * @example
 * ```tsx
 * import type { AppKit } from "@/auth.config";
 * const { session, run } = useClaims<AppKit>();
 * const result = await run("switchTenant", { tenantId });
 * if (!result.ok) setError(result.code); // e.g. "not_a_member"
 * ```
 */
export function useClaims<K>() {
  type S = SessionOf<K> & KitSession<object, object>;
  type I = IntentsOfKit<K> & object;
  const { data, status, update } = useSession();
  // next-auth's update() silently does nothing while the provider is (re)loading the session, e.g.
  // right after sign-in. Wait for it to settle instead of reporting a false "not signed in".
  // update() closes over the provider's loading flag: always call the latest one.
  const statusRef = useRef(status);
  const updateRef = useRef(update);
  const waiters = useRef<Array<() => void>>([]);
  useEffect(() => {
    statusRef.current = status;
    updateRef.current = update;
    if (status !== "loading") waiters.current.splice(0).forEach((resolve) => resolve());
  }, [status, update]);
  const settled = useCallback(
    () => (statusRef.current === "loading" ? new Promise<void>((resolve) => waiters.current.push(resolve)) : Promise.resolve()),
    [],
  );
  const run = useCallback(
    async <K extends keyof I & string>(intent: K, ...args: InputArgs<I[K]>): Promise<IntentResult<S>> => {
      const n = nonce();
      const payload = args.length > 0 && args[0] !== undefined ? { intent, input: args[0], nonce: n } : { intent, nonce: n };
      let next: S | null | undefined;
      for (let attempt = 0; attempt < 3 && next === undefined; attempt++) {
        await settled();
        next = (await updateRef.current(payload)) as S | null | undefined;
      }
      if (!next) return { ok: false, kind: next === undefined ? "failed" : "refused", code: next === undefined ? "busy" : "not_signed_in" };
      if (next.update?.nonce !== n) return { ok: false, kind: "failed", code: "no_response" };
      return next.update.code ? { ok: false, kind: kindOf(next.update.code), code: next.update.code } : { ok: true, session: next };
    },
    [settled],
  );
  // next-auth's update() with no argument only re-reads the session (no POST, so jwt() never sees
  // trigger "update", upstream #11002): refresh() sends the refreshClaims intent instead.
  const refresh = useCallback(() => run("refreshClaims" as keyof I & string, ...([] as unknown as InputArgs<I[keyof I & string]>)), [run]);
  return { session: data as S | null, status, run, refresh };
}

/**
 * React to an unrecoverable refresh failure (the provider revoked the grant): send the user to sign
 * in again, once. If the failure comes back within `windowMs` (default 5 minutes) the hook does not
 * send them again (no redirect loop): `blocked` becomes true and the page can offer a button.
 *
 * @example
 * ```tsx
 * const { blocked } = useReauthOnRevokedGrant({ provider: "oidc" });
 * if (blocked) return <p>Your sign-in with the provider was revoked. <button onClick={() => signIn("oidc")}>Sign in</button></p>;
 * ```
 */
export function useReauthOnRevokedGrant(options: { provider: string; pluginId?: string; codes?: readonly string[]; windowMs?: number }): { blocked: boolean; code: string | null } {
  const { data } = useSession();
  const session = data as KitSession | null;
  const code = session?.errors?.[options.pluginId ?? "oauth"] ?? null;
  const terminal = code !== null && (options.codes ?? ["invalid_grant", "revoked", "reauth_required"]).includes(code);
  const windowMs = options.windowMs ?? 5 * 60_000;
  // Decided in an effect (sessionStorage is browser-only), so server and first client render agree.
  const [blocked, setBlocked] = useState(false);
  useEffect(() => {
    const key = "claims-kit:reauth";
    if (!terminal) {
      setBlocked(false);
      return;
    }
    if (Date.now() - Number(window.sessionStorage.getItem(key) ?? 0) < windowMs) {
      setBlocked(true);
      return;
    }
    // Mark the attempt only once the provider's URL is in hand, right before leaving: a reload or
    // a navigation that interrupts the sign-in request must not leave a mark that blocks retrying.
    let cancelled = false;
    void signIn(options.provider, { redirect: false }).then((result) => {
      if (cancelled || !result?.url) return;
      window.sessionStorage.setItem(key, String(Date.now()));
      window.location.assign(result.url);
    });
    return () => {
      cancelled = true;
    };
  }, [terminal, windowMs, options.provider]);
  return { blocked, code };
}

export { SessionSync, useSessionSync, type SessionChangeReason, type SessionSyncOptions } from "./internal/sync";
