// What the kit's own endpoints for providers (back-channel logout, Shared Signals push) share: a
// body read with a bound, the headers every answer carries, the default logger.
import type { KitLogger } from "../engine/types";

/**
 * Seconds a one-time value (a `jti`) is kept past the moment the token would fail its age check
 * anyway. The store is swept with the clock of whichever instance calls it: without a margin, an
 * instance whose clock runs ahead would forget a `jti` that one running behind still accepts.
 */
export const REPLAY_MARGIN = 300;

/** Every answer of a provider-facing endpoint: never cached. */
export const NO_STORE = { "cache-control": "no-store", pragma: "no-cache" } as const;

/** Log lines prefixed `[claims-kit]`: codes and counts only, never a token. */
export const consoleLogger: KitLogger = {
  info: (m) => console.info(`[claims-kit] ${m}`),
  warn: (m) => console.warn(`[claims-kit] ${m}`),
  error: (m) => console.error(`[claims-kit] ${m}`),
};

/**
 * At most `limit` bytes of a request's (or response's) body, or null when it is longer: an
 * unauthenticated POST is never buffered whole, whatever its `Content-Length` says.
 *
 * @example
 * ```ts
 * const text = await boundedText(request, 64 * 1024);
 * if (text === null) return tooLarge();
 * ```
 */
export async function boundedText(message: Request | Response, limit: number): Promise<string | null> {
  const declared = Number(message.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await message.body?.cancel().catch(() => undefined);
    return null;
  }
  if (!message.body) return "";
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(all);
}
