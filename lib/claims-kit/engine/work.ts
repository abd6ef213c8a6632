// One jwt() call's working state, and the small operations every step shares.
import type { Failure, Outcome } from "./errors";
import type { Runtime } from "./compile";
import type { SessionMeta } from "./meta";
import type { AnyPlugin, BaseContext, LoadContext, LoadReason } from "./types";

export type Claims = Record<string, unknown>;

/** The token being built (full claim names), its bookkeeping, and server-side values to write. */
export interface Work {
  token: Claims;
  meta: SessionMeta;
  server: Claims;
}

/** What Auth.js passes to `jwt()` at sign-in that loaders may read. */
export interface SignInInput {
  user?: LoadContext["user"] | null;
  account?: unknown;
  profile?: unknown;
}

/** A copy to try a change on: discarded whole when the change is refused. */
export function cloneWork(w: Work): Work {
  return { token: { ...w.token }, meta: { ...w.meta, errors: w.meta.errors ? { ...w.meta.errors } : undefined }, server: { ...w.server } };
}

/** Adopt a tried copy's state into `w` (callers hold `w` by reference). */
export function adopt(w: Work, next: Work): void {
  w.token = next.token;
  w.meta = next.meta;
  w.server = next.server;
}

export function isPlainObject(v: unknown): v is Claims {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function recordError(rt: Runtime, w: Work, id: string, step: string, code: string, detail: string): void {
  w.meta.errors = { ...w.meta.errors, [id]: { code, at: rt.now() } };
  rt.log.warn(`${code} plugin=${id} step=${step}: ${detail}`);
}

export function clearError(w: Work, id: string): void {
  if (w.meta.errors && id in w.meta.errors) {
    const { [id]: _gone, ...rest } = w.meta.errors;
    w.meta.errors = Object.keys(rest).length > 0 ? rest : undefined;
  }
}

/** Record a step's outcome on the token: its failure, or the end of an earlier one. */
export function settle(rt: Runtime, w: Work, plugin: AnyPlugin, step: string, outcome: Outcome | Failure): void {
  if (outcome.ok) clearError(w, plugin.id);
  else recordError(rt, w, plugin.id, step, outcome.code, outcome.detail);
}

export function baseContext(rt: Runtime, w: Work): BaseContext {
  const sub = w.token.sub;
  return { token: w.token, userId: typeof sub === "string" ? sub : undefined, now: rt.now(), log: rt.log };
}

/** The reads the loaders of one pass share (`LoadContext.once`). */
export type LoadMemo = Map<string, Promise<unknown>>;

export function loadContext(rt: Runtime, w: Work, reason: LoadReason, input?: SignInInput, memo: LoadMemo = new Map()): LoadContext {
  return {
    ...baseContext(rt, w),
    reason,
    user: input?.user ?? undefined,
    account: input?.account as LoadContext["account"],
    profile: input?.profile as LoadContext["profile"],
    once<T>(key: string, read: () => T | PromiseLike<T>): Promise<T> {
      let shared = memo.get(key) as Promise<T> | undefined;
      if (!shared) {
        shared = Promise.resolve().then(read);
        memo.set(key, shared);
        // A failed read is not shared: the next loader asks again (and reports its own failure).
        shared.catch(() => memo.delete(key));
      }
      return shared;
    },
  };
}
