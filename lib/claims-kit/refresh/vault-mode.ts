// Vault mode: tokens in a TokenVault (the Account row), refreshed by exactly one instance at a
// time under a lease; waiting instances read the holder's result.
import { kindOf } from "../engine/kinds";
import type { AccountRef, TokenSet, TokenVault, VaultEntry } from "../engine/ports";
import type { KitLogger } from "../engine/types";
import { backingOff, backoffDetail, nextBackoff, type BackoffState } from "./backoff";
import type { ProviderEndpoints } from "./oauth-client";
import type { ProviderClient } from "./provider";
import { singleFlight } from "./single-flight";
import { TRANSIENT, type RefreshErrorCode } from "./token-endpoint";
import type { Failure, Served } from "./types";

// ---- lease arithmetic (vault mode) ----
// The lease must outlive everything its holder does after taking it; otherwise a second instance
// takes the lease and presents the refresh token the first one is consuming, and a provider with
// reuse detection revokes the whole grant. Worst case after the lease is taken:
//   the re-read under the lease (the ownership check)    1 statement
//   the token call, request and body under one AbortSignal  timeoutMs
//   SAVE_ATTEMPTS saves of the rotated tokens               SAVE_ATTEMPTS statements
//   the back-off between those saves                        100 + 200 + 300 + 400 ms = 1 s
//   margin: the acquire statement itself, clock skew between instances (each compares the lease
//   with its own clock), event-loop and GC stalls            LEASE_MARGIN_MS
// with each vault statement assumed to finish within STATEMENT_MS (one row by its unique key on a local
// database: slower than that is an outage).
// Default timeout 10 s: 1 + 10 + 5 + 1 + 5 = 22 s: the "call window". Discovery never runs under
// the lease (it would add up to 2 x timeoutMs), and the holder checks right before calling the
// provider that the lease is still its own and still covers the call and every save.
// The hold (issue #22). When every save fails (the vault is down), the holder keeps the rotated
// tokens in memory: they are the provider's only live ones, and the vault still holds the refresh
// token they replaced, which is consumed. No instance may present it while they are unsaved, so
// the lease is taken for HOLD_MS, not for the call window: the acquire statement itself writes the
// longer expiry (no extra statement), before the provider call, when the vault is known to work.
// Every way a refresh ends in the vault (save, back-off, stop, release) clears the lease, so the
// hold only outlasts the call when the save failed (or the holder died mid-call); meanwhile the
// holder keeps retrying the save in the background. Bound: a vault outage longer than HOLD_MS
// right after a rotation lets another instance present the consumed token (README, security notes).
// Other instances wait for a holder only during its call window; past it they answer at once.
const STATEMENT_MS = 1_000;
const SAVE_ATTEMPTS = 5;
const saveBackoffMs = (attempt: number) => 100 * attempt;
const SAVE_BACKOFF_TOTAL_MS = Array.from({ length: SAVE_ATTEMPTS - 1 }, (_, i) => saveBackoffMs(i + 1)).reduce((a, b) => a + b, 0);
const SAVE_BUDGET_MS = SAVE_ATTEMPTS * STATEMENT_MS + SAVE_BACKOFF_TOTAL_MS;
const LEASE_MARGIN_MS = 5_000;
/** How long a refresh's lease holds the grant when its rotated tokens could not be saved. */
const HOLD_MS = 10 * 60_000;
/**
 * Background retries of a save that failed: quickly at first, then every 10 s for as long as the
 * hold lasts (so the save lands soon after the vault is back), then on this account's requests.
 * The first minute keeps the process alive (an exiting process should save first); later ones do not.
 */
const BACKGROUND_SAVE_DELAYS_MS = [500, 1_000, 2_000, 4_000, 8_000, ...Array.from({ length: Math.ceil((HOLD_MS - 15_500) / 10_000) }, () => 10_000)];
const KEEP_ALIVE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A log-safe description of a storage error: its class and code, never its message (which may quote parameters). */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" ? `${err.name} ${code}` : err.name;
}

/** Rotated tokens this process holds but could not save yet (the vault still has the consumed refresh token). */
interface Unsaved {
  ref: AccountRef;
  owner: string;
  /** The refresh token the refresh sent (consumed at the provider). */
  presented: string;
  tokens: TokenSet;
  refreshedAt: number;
  refreshCount: number;
  idToken: string | null;
}

/**
 * Fresh tokens from the vault, or why there are none. `served`: the refresh failed (or waits for
 * its back-off) but the current access token has not expired, so it is served, with the reason.
 */
export type Fresh = { ok: true; entry: VaultEntry; served?: Served } | Failure;

/** The back-off a vault row records, as the shared arithmetic sees it. */
const backoffOf = (e: VaultEntry): BackoffState | undefined =>
  e.refreshRetryAt !== null && e.refreshFailedWith ? { n: Math.max(1, e.refreshFailures), r: e.refreshRetryAt, c: e.refreshFailedWith as RefreshErrorCode } : undefined;

/**
 * A failure that is not a stop, reported on a request: while the entry's access token has not
 * expired it is still served (no refresh happened, but the user keeps working); after that, the
 * failure stands. No provider call is made for it.
 */
function failedButServed(entry: VaultEntry | null, failure: Failure, now: number): Fresh {
  if (failure.stop || !entry?.accessToken || entry.expiresAt === null || entry.expiresAt <= now) return failure;
  return { ok: true, entry, served: { code: failure.code as RefreshErrorCode, detail: failure.detail } };
}

/** The failure to report while a grant backs off. */
const backingOffFailure = (b: BackoffState): Failure => ({ ok: false, kind: kindOf(b.c), code: b.c, detail: backoffDetail(b) });

/** The account key used in logs and in-process maps. */
export const accountKey = (ref: AccountRef) => `${ref.provider}:${ref.providerAccountId}`;

/**
 * The vault-mode refresher: `ensureFresh(ref, now)` makes an account's tokens fresh (one process
 * calls the provider, the others wait for it); rotated tokens that cannot be saved are served from
 * memory and saved later (`unsaved`, `saveUnsaved`).
 *
 * @example
 * ```ts
 * const refresher = vaultRefresher({ vault, provider, log, timeoutMs, waitMs });
 * const fresh = await refresher.ensureFresh({ provider: "oidc", providerAccountId: "1234" }, now);
 * ```
 */
export function vaultRefresher(deps: { vault: TokenVault; provider: ProviderClient; log: KitLogger; timeoutMs: number; waitMs: number; clock: () => number }) {
  const { vault, log, timeoutMs, waitMs, clock } = deps;
  const nowSeconds = () => Math.floor(clock() / 1000);
  const { due, retryable, stopped, endpointsOrFailure, callProvider, rateLimited, backoff: policy } = deps.provider;
  /** The call window: what the holder does between taking the lease and its last save attempt. */
  const leaseMs = STATEMENT_MS + timeoutMs + SAVE_BUDGET_MS + LEASE_MARGIN_MS;
  const holdMs = Math.max(HOLD_MS, leaseMs);
  const keyOf = accountKey;
  const vaultFlight = singleFlight<Fresh>();

  // Rotated tokens whose save failed, by account. They are the provider's only live tokens: this
  // process serves them and keeps trying to save them, and never refreshes that account from the
  // vault meanwhile (the vault still holds the refresh token they replaced, which is consumed).
  const unsaved = new Map<string, Unsaved>();
  const saveFlight = singleFlight<"saved" | "dropped" | "failed">();

  const entryOf = (u: Unsaved): VaultEntry => ({
    accessToken: u.tokens.accessToken,
    refreshToken: u.tokens.refreshToken,
    idToken: u.idToken,
    expiresAt: u.tokens.expiresAt,
    refreshedAt: u.refreshedAt,
    refreshCount: u.refreshCount,
    refreshError: null,
    refreshErrorAt: null,
    refreshFailures: 0,
    refreshFailedWith: null,
    refreshRetryAt: null,
    leaseOwner: null,
    leaseUntil: null,
  });

  /**
   * Save a refresh's tokens: under the lease when it is still ours; otherwise (it expired and
   * another instance may have taken it) only where the row still holds the refresh token this
   * refresh presented. That second write is what keeps the grant: our tokens are the provider's
   * only live ones, and an instance that took the lease finds them when it re-reads before calling.
   * "dropped": the row has newer tokens, was revoked or signed in again, which all win. Throws
   * when the vault cannot be written.
   */
  async function persist(u: Unsaved): Promise<"saved" | "dropped"> {
    if (await vault.complete(u.ref, u.owner, u.tokens, u.refreshedAt)) return "saved";
    log.error(`oauth refresh: lost the lease before saving the rotated tokens of ${keyOf(u.ref)}; saving them only if the account still holds the refresh token that refresh presented`);
    if (await vault.adopt(u.ref, u.presented, u.tokens, u.refreshedAt)) return "saved";
    log.error(`oauth refresh: rotated tokens of ${keyOf(u.ref)} not saved: the account has newer tokens, was revoked, or signed in again`);
    return "dropped";
  }

  /** Try to save an account's unsaved tokens once (shared by requests and the background retry). */
  function saveUnsaved(key: string): Promise<"saved" | "dropped" | "failed"> {
    return saveFlight(key, async () => {
      const u = unsaved.get(key);
      if (!u) return "saved";
      try {
        const result = await persist(u);
        if (unsaved.get(key) === u) unsaved.delete(key);
        if (result === "saved") log.info(`oauth refresh: rotated tokens of ${key} saved after earlier failures`);
        return result;
      } catch (err) {
        log.warn(`oauth refresh: rotated tokens of ${key} still not saved: ${describe(err)}`);
        return "failed";
      }
    });
  }

  /** Bounded background retries (throughout the hold), so the save does not wait for this user's next request. */
  function retryInBackground(key: string, index = 0, elapsed = 0): void {
    const delay = BACKGROUND_SAVE_DELAYS_MS[index];
    if (delay === undefined) {
      log.error(`oauth refresh: rotated tokens of ${key} still not saved after background retries throughout the hold; retrying on this account's requests`);
      return;
    }
    const timer = setTimeout(() => {
      void saveUnsaved(key).then((result) => {
        if (result === "failed" && unsaved.has(key)) retryInBackground(key, index + 1, elapsed + delay);
      });
    }, delay);
    if (elapsed + delay > KEEP_ALIVE_MS) timer.unref();
  }

  /** After the provider rotated: save with retries; if every attempt fails, keep the tokens in memory. */
  async function saveRotated(u: Unsaved): Promise<Fresh | "reread"> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await persist(u)) === "saved" ? { ok: true, entry: entryOf(u) } : "reread";
      } catch (err) {
        if (attempt >= SAVE_ATTEMPTS) {
          // The lease is left to expire on its own (the vault is unreachable anyway): it was taken for
          // the hold, and until it ends no other instance presents the consumed refresh token.
          unsaved.set(keyOf(u.ref), u);
          retryInBackground(keyOf(u.ref));
          log.error(`oauth refresh: could not save the rotated tokens of ${keyOf(u.ref)} (${describe(err)}); serving them from this process and retrying the save`);
          return { ok: true, entry: entryOf(u) };
        }
        await sleep(saveBackoffMs(attempt));
      }
    }
  }

  /**
   * Holding the lease: re-read, check it is still ours, call the provider, save. "reread": go round
   * again. A vault error before the provider call releases the lease (best effort) and is thrown:
   * nothing was presented, so nothing needs the hold the acquire wrote.
   */
  async function refreshUnderLease(ref: AccountRef, owner: string, endpoints: ProviderEndpoints, now: number): Promise<Fresh | "reread"> {
    const progress = { called: false };
    try {
      return await refreshHolding(ref, owner, endpoints, now, progress);
    } catch (err) {
      if (!progress.called) await vault.release(ref, owner).catch(() => undefined);
      throw err;
    }
  }

  async function refreshHolding(ref: AccountRef, owner: string, endpoints: ProviderEndpoints, now: number, progress: { called: boolean }): Promise<Fresh | "reread"> {
    // Read again under the lease: the previous holder may have just finished, recorded a terminal
    // error, or the tokens may have been revoked or replaced by a sign-in.
    const current = await vault.read(ref);
    if (!current) return stopped("reauth_required", now, "the account has no tokens in the vault");
    if (!due(current.expiresAt, current.refreshedAt, now) && current.accessToken) {
      await vault.release(ref, owner);
      return { ok: true, entry: current };
    }
    if (current.refreshError && !retryable(current.refreshError, current.refreshErrorAt, now)) {
      await vault.release(ref, owner);
      return stopped(current.refreshError, current.refreshErrorAt ?? now);
    }
    if (!current.refreshToken) {
      await vault.release(ref, owner);
      return stopped("reauth_required", now, "the access token expired and the provider gave no refresh token");
    }
    // Another instance's attempt just failed: its back-off holds for this one too.
    const previous = backoffOf(current);
    if (previous && backingOff(previous, now)) {
      await vault.release(ref, owner);
      return failedButServed(current, backingOffFailure(previous), now);
    }
    // Right before the call: the lease must still be ours and still cover the call and every save.
    if (current.leaseOwner !== owner || current.leaseUntil === null || current.leaseUntil * 1000 < clock() + timeoutMs + SAVE_BUDGET_MS) {
      log.warn(`oauth refresh: the lease on ${keyOf(ref)} was lost or ran short before the provider call; not calling`);
      await vault.release(ref, owner);
      return "reread";
    }
    const presented = current.refreshToken;
    progress.called = true;
    const outcome = await callProvider(endpoints, presented, now, current.idToken);
    if (outcome.ok) {
      return saveRotated({ ref, owner, presented, tokens: outcome.tokens, refreshedAt: now, refreshCount: current.refreshCount + 1, idToken: outcome.tokens.idToken ?? current.idToken });
    }
    // A consumed refresh token is never presented again: the user signs in again.
    if (outcome.consumed) {
      await vault.stop(ref, owner, "reauth_required", now);
      return stopped("reauth_required", now, outcome.detail);
    }
    // A rejection right after a rejection is the confirming attempt: the refresh token is dead.
    if (outcome.code === "refresh_rejected" && previous?.c === "refresh_rejected") {
      await vault.stop(ref, owner, "invalid_grant", now);
      return stopped("invalid_grant", now, `${outcome.detail}, and again on the confirming attempt: the refresh token is treated as refused`);
    }
    // Transient (or a first rejection): keep the refresh token, record the back-off for every instance.
    if (TRANSIENT.has(outcome.code) || outcome.code === "refresh_rejected") {
      const next = nextBackoff(previous, outcome.code, now, outcome.retryAfter, policy);
      await vault.backOff(ref, owner, { failures: next.n, failedWith: next.c, retryAt: next.r });
      log.info(`oauth refresh of ${keyOf(ref)}: attempt ${next.n} in a row failed (${outcome.code}); next not before ${next.r}`);
      return failedButServed(current, { ok: false, kind: kindOf(outcome.code), code: outcome.code, detail: outcome.detail }, now);
    }
    await vault.stop(ref, owner, outcome.code, now);
    return stopped(outcome.code, now, outcome.detail);
  }

  /** Make the vault's tokens fresh: one process calls the provider, the others wait for it. */
  function ensureFresh(ref: AccountRef, now: number): Promise<Fresh> {
    const key = keyOf(ref);
    return vaultFlight(key, async (): Promise<Fresh> => {
      const held = unsaved.get(key);
      if (held && (await saveUnsaved(key)) === "failed") {
        if (!due(held.tokens.expiresAt, held.refreshedAt, now)) return { ok: true, entry: entryOf(held) };
        return failedButServed(entryOf(held), { ok: false, kind: "failed", code: "server_error", detail: "the last rotated tokens are not saved yet: not refreshing again until they are" }, now);
      }
      const deadline = clock() + waitMs;
      // Rounds that end in "reread" (lease lost or short, tokens dropped for newer ones) look at the
      // row again at once, a few times, before the wait for another instance applies.
      let rereads = 0;
      for (;;) {
        const entry = await vault.read(ref);
        if (!entry) return stopped("reauth_required", now, "the account has no tokens in the vault");
        if (!due(entry.expiresAt, entry.refreshedAt, now) && entry.accessToken) return { ok: true, entry };
        if (entry.refreshError && !retryable(entry.refreshError, entry.refreshErrorAt, now)) return stopped(entry.refreshError, entry.refreshErrorAt ?? now);
        if (!entry.refreshToken) return stopped("reauth_required", now, "the access token expired and the provider gave no refresh token");
        // Backing off (any instance's failed attempt), or the provider asked this client to wait: no lease, no call.
        const backoff = backoffOf(entry);
        if (backoff && backingOff(backoff, now)) return failedButServed(entry, backingOffFailure(backoff), now);
        const limited = rateLimited(now);
        if (limited) return failedButServed(entry, limited, now);
        // Endpoints before the lease: a failed discovery is a transient error without a lease.
        const endpoints = await endpointsOrFailure();
        if ("ok" in endpoints) return failedButServed(entry, endpoints, now);
        const owner = crypto.randomUUID();
        // Taken for the hold (see the lease arithmetic above); every normal end clears it.
        if (await vault.acquire(ref, owner, nowSeconds(), Math.ceil((clock() + holdMs) / 1000))) {
          const result = await refreshUnderLease(ref, owner, endpoints, now);
          if (result !== "reread") return result;
          if (++rereads <= 2) continue;
        }
        // Another instance holds the lease. Past its call window it holds rotated tokens it could not
        // save (or died): its lease keeps the grant until the hold ends, nothing to wait for.
        // (The lease as read just before the acquire; one taken since then is in its call window.)
        if (entry.leaseUntil !== null && clock() > entry.leaseUntil * 1000 - holdMs + leaseMs) {
          return failedButServed(entry, { ok: false, kind: "failed", code: "server_error", detail: "another instance consumed this grant's refresh token and has not saved the new one yet: not presenting the old one (its lease holds the grant for up to 10 minutes)" }, now);
        }
        // Within it: wait for its result rather than refresh with the same token.
        if (clock() > deadline) return failedButServed(entry, { ok: false, kind: "failed", code: "timeout", detail: "waited too long for another instance's refresh" }, now);
        await sleep(100);
      }
    });
  }

  return { ensureFresh, saveUnsaved, unsaved };
}
