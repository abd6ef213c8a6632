// What every cross-process change feed shares (PostgreSQL LISTEN/NOTIFY, Redis pub/sub): the
// subscribers and their wake-up, bounded waits on a peer that may never answer, the heartbeat that
// notices a connection that died silently, and publishes coalesced onto one sender at a time.
import type { ChangeFeed, RegistryChange } from "../engine/ports";
import { feedMessages, type FeedMessages } from "./feed-message";

/** Resolves with the work's result, or rejects once `ms` have passed without an answer. */
export function answeredWithin<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref?.();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** The message of anything thrown. */
export const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Run `send` at most once at a time. A call while one is in flight waits for ONE more send after
 * it (every call made meanwhile shares that one): that send starts after each caller's change was
 * written, so it carries all of them, and the connection never has two commands in flight.
 */
export function coalesced(send: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const run = (): Promise<void> => {
    const current = send().finally(() => {
      if (inFlight === current) inFlight = null;
    });
    inFlight = current;
    return current;
  };
  return () => {
    if (next) return next;
    if (!inFlight) return run();
    const after = inFlight.catch(() => undefined).then(() => {
      next = null;
      return run();
    });
    next = after;
    return after;
  };
}

/**
 * Ask `ping` every `everyMs`, one at a time; one unanswered within `timeoutMs` calls `dead` (a NAT
 * or proxy that stops forwarding without closing the socket would otherwise look up for hours: TCP
 * keepalive's first probe comes after the system's idle time, 2 hours on Linux). Returns the stop.
 */
export function heartbeat(ping: () => Promise<unknown>, everyMs: number, timeoutMs: number, dead: (err: Error) => void): () => void {
  let inFlight = false;
  let stopped = false;
  const timer = setInterval(() => {
    if (inFlight || stopped) return;
    inFlight = true;
    answeredWithin(ping(), timeoutMs).then(
      () => void (inFlight = false),
      (err: unknown) => {
        if (!stopped) dead(new Error(`heartbeat: ${reason(err)}`));
      },
    );
  }, everyMs);
  timer.unref?.();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

/** The options every cross-process feed takes, checked the same way. */
export interface FeedTiming {
  /** How often the listening connection is asked whether it is alive (ms). Default 1000. */
  heartbeatMs?: number;
  /** A heartbeat or publish unanswered for this long (ms) counts as failed. Default 1000. */
  answerTimeoutMs?: number;
  /**
   * The app's secret (AUTH_SECRET; at least 32 characters), the same in every process. With it,
   * each message announces the changes it follows, signed, and a receiving process applies them
   * without reading the change log (its safety poll checks them against the log). Without it, a
   * message only wakes, and every process reads the log on every change.
   */
  secret?: string;
}

/**
 * The checked options of a feed named `where` (`invalid_option` naming the option at fault): its
 * timing, and its messages' signing from `secret` (null without one: bare wake-ups).
 */
export function checkedFeedOptions(where: string, options: FeedTiming, invalid: (where: string, option: string, problem: string) => never): { heartbeatMs: number; answerTimeoutMs: number; messages: FeedMessages | null } {
  const timing = { heartbeatMs: options.heartbeatMs ?? 1000, answerTimeoutMs: options.answerTimeoutMs ?? 1000 };
  for (const [name, value] of Object.entries(timing)) {
    if (!Number.isSafeInteger(value) || value < 50) invalid(where, name, "must be a whole number of milliseconds, 50 or more");
  }
  if (options.secret !== undefined && (typeof options.secret !== "string" || options.secret.length < 32)) invalid(where, "secret", "must be a string of at least 32 characters (the app's AUTH_SECRET)");
  return { ...timing, messages: options.secret === undefined ? null : feedMessages(options.secret) };
}

/**
 * The part of a cross-process {@link ChangeFeed} that does not depend on the transport: the
 * subscribers, `crossProcess` (the listening side says when it is up), and `publish`: wake this
 * process's subscribers at once, then send through `send` (coalesced, see {@link coalesced}). A
 * failed send is logged, never thrown: the write that published is done, and other processes
 * learn of it by polling the change log. `onSubscribe` starts the listening side on first use.
 * With `messages` (the app's secret), a send announces the changes published since the last one,
 * signed; `receive` hands a verified message's changes to the subscribers (anything else is a
 * bare wake-up: they read the log).
 */
export function feedShell(transport: {
  /** "NOTIFY", "PUBLISH": how the log names the send. */
  sendName: string;
  /** Send `message` (a bare wake-up when it is `"1"`). */
  send(message: string): Promise<void>;
  onSubscribe(): void;
  close(): Promise<void>;
  messages?: FeedMessages | null;
  log?: (message: string) => void;
}): { feed: ChangeFeed; wake(changes?: readonly RegistryChange[]): void; receive(message: string | undefined): void; setConnected(up: boolean): void } {
  const listeners = new Set<(changes?: readonly RegistryChange[]) => void>();
  let connected = false;
  const wake = (changes?: readonly RegistryChange[]) => {
    for (const listener of listeners) listener(changes);
  };
  /** What the next send announces; `bare`: a publish since the last send named no changes. */
  let pending: RegistryChange[] = [];
  let bare = false;
  const send = coalesced(() => {
    const changes = pending;
    const announce = !bare && changes.length > 0 ? transport.messages?.encode(changes, Date.now()) : null;
    pending = [];
    bare = false;
    return transport.send(announce ?? "1");
  });
  const feed: ChangeFeed = {
    get crossProcess() {
      return connected;
    },
    subscribe(onChange) {
      listeners.add(onChange);
      transport.onSubscribe();
      return () => void listeners.delete(onChange);
    },
    async publish(changes) {
      wake(changes);
      if (changes?.length) pending.push(...changes);
      else bare = true;
      await send().catch((err: unknown) => transport.log?.(`change feed: ${transport.sendName} failed (${reason(err)}); other processes learn of the change by polling`));
    },
    async close() {
      connected = false;
      await transport.close();
    },
  };
  return {
    feed,
    wake,
    receive: (message) => wake(transport.messages?.decode(message, Date.now())),
    setConnected: (up) => void (connected = up),
  };
}
