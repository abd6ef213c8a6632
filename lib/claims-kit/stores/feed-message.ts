// What a change feed's message says: the changes it announces (sequence number, kind, key),
// authenticated with a key derived from the app's secret, so every process can apply them to its
// view of the change log without reading the log (the log's database cost then stays the safety
// poll's, whatever the number of processes). A message that does not verify (no secret, forged,
// stale, too big, malformed) still wakes the receiver, which then reads the log as before.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { RegistryChange } from "../engine/ports";

/** PostgreSQL's NOTIFY payload must stay under 8,000 bytes: a message over this announces nothing (receivers read the log). */
export const MAX_MESSAGE_BYTES = 7000;
/** A message older (or newer) than this is not applied, only a wake-up: a replayed one names numbers the log may have reused. */
const FRESH_MS = 60_000;
const KEY_BYTES = 512;
const KINDS = { s: "session", u: "user", a: "all" } as const;
const CODES = { session: "s", user: "u", all: "a" } as const;

/** Signs and reads a feed's messages; `null` without a secret (messages are then only wake-ups). */
export interface FeedMessages {
  /** The message announcing `changes`, or null when they do not fit in one (send a bare wake-up). */
  encode(changes: readonly RegistryChange[], now: number): string | null;
  /** The changes a message announces, or undefined when it does not verify (a bare wake-up). */
  decode(message: string | undefined, now: number): RegistryChange[] | undefined;
}

/** The feed's signing from `secret` (at least 32 characters: the app's AUTH_SECRET fits). */
export function feedMessages(secret: string): FeedMessages {
  // A key of its own: a MAC of the feed can never be taken for one of the session cookie's.
  const key = createHmac("sha256", secret).update("claims-kit change feed v1").digest();
  const mac = (body: string) => createHmac("sha256", key).update(body).digest();
  return {
    encode(changes, now) {
      const body = Buffer.from(JSON.stringify({ t: now, c: changes.map((c) => [c.seq, CODES[c.kind], c.key]) })).toString("base64url");
      const message = `v1.${body}.${mac(body).toString("base64url")}`;
      return message.length <= MAX_MESSAGE_BYTES ? message : null;
    },
    decode(message, now) {
      if (typeof message !== "string" || message.length > MAX_MESSAGE_BYTES) return undefined;
      const [version, body, tag, extra] = message.split(".");
      if (version !== "v1" || !body || !tag || extra !== undefined) return undefined;
      const given = Buffer.from(tag, "base64url");
      const expected = mac(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
      } catch {
        return undefined;
      }
      const { t, c } = (parsed ?? {}) as { t?: unknown; c?: unknown };
      if (typeof t !== "number" || Math.abs(now - t) > FRESH_MS || !Array.isArray(c) || c.length === 0) return undefined;
      const changes: RegistryChange[] = [];
      for (const item of c as unknown[]) {
        if (!Array.isArray(item) || item.length !== 3) return undefined;
        const [seq, code, k] = item as [unknown, unknown, unknown];
        if (!Number.isSafeInteger(seq) || (seq as number) <= 0 || typeof k !== "string" || k.length > KEY_BYTES) return undefined;
        const kind = typeof code === "string" && Object.hasOwn(KINDS, code) ? KINDS[code as keyof typeof KINDS] : undefined;
        if (!kind) return undefined;
        changes.push({ seq: seq as number, kind, key: k });
      }
      return changes;
    },
  };
}
