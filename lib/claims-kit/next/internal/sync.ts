"use client";
// Every tab of a browser follows a session change made in any of them: update(), a server action's
// updateSession(), a tenant switch, a sign-out or a revocation one tab found. A tab that sees a
// change announces it (a counter and a reason, never a token or a claim) on a BroadcastChannel, with
// localStorage's storage event as the fallback; the others re-read /api/auth/session and re-render
// their Server Components. Only a tab that saw a change first announces it; what a tab reads because
// it was told to is never announced again, so nothing ping-pongs.
import { useEffect, useRef, useTransition } from "react";
import { useRouter } from "next/navigation";
import { __NEXTAUTH, useSession } from "next-auth/react";
import { SIGNED_OUT_VERSION, sessionVersion, type VersionedSession } from "./session-version";

/** Why a tab announced a change. */
export type SessionChangeReason = "update" | "server" | "signed-in" | "signed-out";

/** What goes over the channel: no token, no claim, nothing but a counter and a reason. */
export interface SessionSyncMessage {
  /** Per-browser counter (localStorage), with `from` the message's identity. */
  v: number;
  reason: SessionChangeReason;
  /** A random id of the announcing tab. */
  from: string;
}

/** Options of {@link useSessionSync} and {@link SessionSync}. */
export interface SessionSyncOptions {
  /**
   * The server's view of the session, `sessionVersion(await auth())`, rendered by the root layout:
   * lets the tab notice a change the server made (a server action's `updateSession()`, a sign-out
   * or revocation found by a render) and skip re-rendering a server tree that is already current.
   */
  version?: string;
  /** BroadcastChannel name and localStorage key. Default `"claims-kit:session"`. */
  channel?: string;
  /** Re-render the page's Server Components (`router.refresh()`) when the session changes. Default true. */
  refresh?: boolean;
  /** Called after this tab took a change in: its own (`"this-tab"`) or another tab's. */
  onChange?(change: { reason: SessionChangeReason; origin: "this-tab" | "other-tab" }): void;
}

const REASONS = new Set<string>(["update", "server", "signed-in", "signed-out"]);
const TAB = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

function parseMessage(value: unknown): SessionSyncMessage | null {
  const m = typeof value === "string" ? safeJson(value) : value;
  if (typeof m !== "object" || m === null) return null;
  const { v, reason, from } = m as Record<string, unknown>;
  return typeof v === "number" && Number.isFinite(v) && typeof reason === "string" && REASONS.has(reason) && typeof from === "string" && from.length <= 64
    ? { v, reason: reason as SessionChangeReason, from }
    : null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function reasonFor(before: string, after: string): SessionChangeReason {
  if (after === SIGNED_OUT_VERSION) return "signed-out";
  return before === SIGNED_OUT_VERSION ? "signed-in" : "update";
}

/** Per-mount bookkeeping, kept in a ref: none of it is rendered. */
interface SyncState {
  /** Last versions seen of the client session and of the server tree. */
  client?: string;
  server?: string;
  /** A router.refresh() of ours is in flight (to show `refreshTarget`): the server version it brings is not news. */
  ownRefresh: boolean;
  refreshTarget?: string;
  /** Message identities already handled (BroadcastChannel and storage event both deliver). */
  seen: string[];
  counter: number;
  /** The re-read in flight (what it brings was announced by someone else), and whether to read once more. */
  inflight: Promise<void> | null;
  again: boolean;
  channel: BroadcastChannel | null;
  /** Whether this page load's first view was checked against the tab's last one. */
  loaded: boolean;
}

const DEFAULT_CHANNEL = "claims-kit:session";
/** A registry cache that polls its change log each second has caught up by then. */
const SIGNED_OUT_RETRY_MS = 1500;

/**
 * Keep this tab in step with the browser's other tabs (mount once, inside `<SessionProvider>`).
 * After `update()`, a server action's `updateSession()`, a tenant switch, a sign-out or a
 * revocation seen by any tab, the others re-read the session and re-render their Server
 * Components within about a second. Sign-out in one tab signs out every tab (their session read
 * comes back empty). Messages carry a counter and a reason only; each tab fetches its own copy.
 *
 * @example
 * ```tsx
 * "use client";
 * export function Providers({ children, version }: { children: ReactNode; version?: string }) {
 *   useSessionSync({ version, onChange: ({ reason }) => console.info("session", reason) });
 *   return children;
 * }
 * ```
 */
export function useSessionSync(options: SessionSyncOptions = {}): void {
  const { data, status } = useSession();
  const router = useRouter();
  const [refreshing, startTransition] = useTransition();
  const state = useRef<SyncState | null>(null);
  state.current ??= { ownRefresh: false, seen: [], counter: 0, inflight: null, again: false, channel: null, loaded: false };
  const latest = useRef(options);
  latest.current = options;
  const key = options.channel ?? DEFAULT_CHANNEL;

  // Stable helpers: they read refs only, so the effects holding them never go stale.
  const act = useRef<ReturnType<typeof helpers> | null>(null);
  act.current ??= helpers(state.current, () => latest.current, () => startTransition(() => router.refresh()));
  const st = state.current;
  const { announce, follow, refreshServer } = act.current;

  // What this tab last showed, kept in sessionStorage across its page loads: the first view after a
  // load (the server's when given) tells whether the tab came back signed out (it signed out through
  // the provider, or a render found its session revoked) or signed in, and then the others are told.
  const arrived = (version: string) => {
    const tabKey = `${key}:tab`;
    const was = readStore("sessionStorage", tabKey);
    writeStore("sessionStorage", tabKey, version === SIGNED_OUT_VERSION ? "out" : "in");
    if (st.loaded) return;
    st.loaded = true;
    if (was === "in" && version === SIGNED_OUT_VERSION) announce("signed-out");
    if (was === "out" && version !== SIGNED_OUT_VERSION) announce("signed-in");
  };

  // Another tab's message: re-read, then re-render this tab's server tree if it shows something else.
  useEffect(() => {
    let retry: ReturnType<typeof setTimeout> | undefined;
    const onMessage = (raw: unknown) => {
      const message = parseMessage(raw);
      if (!message || message.from === TAB || !remember(st, message)) return;
      st.counter = Math.max(st.counter, message.v);
      const settle = () => {
        if (st.server === undefined || st.server !== st.client) refreshServer();
        latest.current.onChange?.({ reason: message.reason, origin: "other-tab" });
      };
      void follow().then(() => {
        settle();
        // Another tab's server found the session ended, ours still reads it: a server-side cache
        // (another process, another route's copy) may be a moment behind. Read once more, later.
        if (message.reason === "signed-out" && st.client !== SIGNED_OUT_VERSION) {
          clearTimeout(retry);
          retry = setTimeout(() => void follow().then(settle), SIGNED_OUT_RETRY_MS);
        }
      });
    };
    const channel = typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(key);
    st.channel = channel;
    channel?.addEventListener("message", (event) => onMessage(event.data));
    const onStorage = (event: StorageEvent) => {
      if (event.key === key && event.newValue) onMessage(event.newValue);
    };
    window.addEventListener("storage", onStorage);
    return () => {
      clearTimeout(retry);
      channel?.close();
      st.channel = null;
      window.removeEventListener("storage", onStorage);
    };
  }, [key, st, follow, refreshServer]);

  // The client session changed: this tab's update(), a re-read on focus, or another tab's change.
  useEffect(() => {
    if (status === "loading") return;
    const version = sessionVersion((data ?? null) as VersionedSession | null);
    const before = st.client;
    if (version === before) return;
    st.client = version;
    arrived(version);
    if (before === undefined) return;
    if (st.server === undefined || st.server !== version) refreshServer();
    // Read while a re-read of ours was in flight (next-auth re-reads too when another tab calls
    // update()): someone else's news, already announced.
    const news = st.inflight === null;
    if (news) announce(reasonFor(before, version));
    latest.current.onChange?.({ reason: reasonFor(before, version), origin: news ? "this-tab" : "other-tab" });
  }, [data, status, key, st, announce, refreshServer]);

  // The server tree changed: a server action wrote the session, or a render found it ended.
  const version = options.version;
  useEffect(() => {
    if (version === undefined) return;
    const before = st.server;
    const own = st.ownRefresh;
    st.ownRefresh = false;
    st.server = version;
    arrived(version);
    if (before === undefined || before === version || own) return;
    if (version !== st.client) void follow();
    const reason: SessionChangeReason = version === SIGNED_OUT_VERSION ? "signed-out" : "server";
    announce(reason);
    latest.current.onChange?.({ reason, origin: "this-tab" });
  }, [version, st, announce, follow]);

  // Declared after the effect above: a refresh of ours that brought no new version ends here.
  useEffect(() => {
    if (!refreshing) st.ownRefresh = false;
  }, [refreshing, st]);
}

function helpers(st: SyncState, options: () => SessionSyncOptions, refresh: () => void) {
  return {
    refreshServer(): void {
      if (options().refresh === false || (st.ownRefresh && st.refreshTarget === st.client)) return;
      st.ownRefresh = true;
      st.refreshTarget = st.client;
      refresh();
    },
    announce(reason: SessionChangeReason): void {
      const key = options().channel ?? DEFAULT_CHANNEL;
      const stored = parseMessage(readStore("localStorage", key));
      const message: SessionSyncMessage = { v: Math.max(st.counter, stored?.v ?? 0) + 1, reason, from: TAB };
      st.counter = message.v;
      remember(st, message);
      st.channel?.postMessage(message);
      writeStore("localStorage", key, JSON.stringify(message));
    },
    // Re-read /api/auth/session through the SessionProvider without next-auth telling the other
    // tabs again; messages that arrive meanwhile share the read in flight plus one more after it.
    follow(): Promise<void> {
      if (st.inflight) {
        st.again = true;
        return st.inflight;
      }
      st.inflight = (async () => {
        do {
          st.again = false;
          await __NEXTAUTH._getSession({ event: "storage" });
          // Recorded before React renders what was read: that render is not a change of this tab's.
          st.client = sessionVersion((__NEXTAUTH._session ?? null) as VersionedSession | null);
        } while (st.again);
      })().finally(() => {
        st.inflight = null;
      });
      return st.inflight;
    },
  };
}

/**
 * {@link useSessionSync} as a component: mount it once inside `<SessionProvider>`.
 *
 * @example
 * ```tsx
 * // app/layout.tsx (a Server Component)
 * <SessionProvider>
 *   <SessionSync version={sessionVersion(await auth())} />
 *   {children}
 * </SessionProvider>
 * ```
 */
export function SessionSync(props: SessionSyncOptions): null {
  useSessionSync(props);
  return null;
}

function remember(st: SyncState, message: SessionSyncMessage): boolean {
  const id = `${message.from}:${message.v}`;
  if (st.seen.includes(id)) return false;
  st.seen.push(id);
  if (st.seen.length > 64) st.seen.shift();
  return true;
}

// Storage can be unavailable (privacy modes, quotas): the channel alone still works, and the
// page-load check is only skipped.
type StoreName = "localStorage" | "sessionStorage";
function readStore(store: StoreName, key: string): string | null {
  try {
    return window[store].getItem(key);
  } catch {
    return null;
  }
}
function writeStore(store: StoreName, key: string, value: string): void {
  try {
    window[store].setItem(key, value);
  } catch {
    // ignored: see above
  }
}
