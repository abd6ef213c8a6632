import { invalidOption, type BudgetErrorCode } from "../engine/errors";
import { measureToken, type TokenMeasure } from "../cookie/measure";
import type { BudgetDecision, BudgetInput, TokenBudget } from "../engine/compile";
import type { KitLogger } from "../engine/types";


/** What may happen to a claim when the token is over budget. */
export type OverflowPolicy =
  /** Never removed; over budget with only required claims is an error (at sign-in: refused). */
  | "required"
  /** Removed, lowest `priority` first; recorded on the token. */
  | { drop: number }
  /** Moved to server-side data, lowest `priority` first; client claims are still in the session. */
  | { move: number };

/** Options of {@link sizeBudget}. */
export interface SizeBudgetOptions {
  /** Most bytes the session cookie(s) may add to the `Cookie` header. Default 2048. */
  maxBytes?: number;
  /** Most cookie chunks. Default 1 (Auth.js splits at 3936 characters). */
  maxChunks?: number;
  /** Per-claim policy; claims not listed follow `otherwise`. */
  claims?: Record<string, OverflowPolicy>;
  /** Policy for unlisted claims. Default "required": nothing disappears unless you say so. */
  otherwise?: OverflowPolicy;
  /** Log the per-claim breakdown when the cookie passes this share of the budget. Default 0.9. */
  warnAt?: number;
  /** Measure the `__Secure-` cookie name: true when the app is served over https. Default false. */
  secure?: boolean;
}

function breakdown(m: TokenMeasure, top = 8): string {
  return Object.entries(m.perClaim)
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, bytes]) => `${name}=${bytes}`)
    .join(" ");
}

/**
 * Keep the session cookie within a budget (the kit's `budget` option). It measures every token
 * exactly as Auth.js will encode it (see `measureToken`) and, when over, moves or drops claims by
 * priority until it fits; the result is recorded on the token and logged with a per-claim
 * breakdown. With only required claims left over budget, a sign-in is refused and an update is
 * rejected (`budget_exceeded`).
 *
 * @example
 * ```ts
 * claimsKit({ plugins, budget: sizeBudget({ maxBytes: 2048, claims: { groups: { move: 1 }, picture: { drop: 2 } } }) })
 * ```
 */
export function sizeBudget(options: SizeBudgetOptions = {}): TokenBudget {
  const maxBytes = options.maxBytes ?? 2048;
  const maxChunks = options.maxChunks ?? 1;
  const warnAt = options.warnAt ?? 0.9;
  const otherwise = options.otherwise ?? "required";
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 256) invalidOption("sizeBudget", "maxBytes", "must be a whole number of bytes, at least 256");
  if (!Number.isSafeInteger(maxChunks) || maxChunks < 1) invalidOption("sizeBudget", "maxChunks", "must be 1 or more");
  if (typeof warnAt !== "number" || warnAt <= 0 || warnAt > 1) invalidOption("sizeBudget", "warnAt", "must be a share between 0 and 1");
  const policies = Object.entries(options.claims ?? {});
  for (const [name, policy] of [...policies, ["(otherwise)", otherwise] as const]) {
    const ok = policy === "required" || (typeof policy === "object" && policy !== null && Number.isFinite("drop" in policy ? policy.drop : "move" in policy ? policy.move : NaN));
    if (!ok) invalidOption("sizeBudget", `claims.${name}`, 'must be "required", { drop: priority } or { move: priority }');
  }
  const secure = options.secure ?? false;
  const policyOf = (name: string): OverflowPolicy => options.claims?.[name] ?? otherwise;
  const fits = (m: TokenMeasure) => m.headerBytes <= maxBytes && m.cookies.length <= maxChunks;

  function decide(token: Readonly<Record<string, unknown>>, stored: BudgetInput["stored"], log: KitLogger, signingIn: boolean): BudgetDecision | undefined {
    const measure = (t: Readonly<Record<string, unknown>>, lists?: { dropped: string[]; moved: string[] }) => measureToken(stored(t, lists), { secure });
    const initial = measure(token);
    if (fits(initial)) {
      if (initial.headerBytes >= warnAt * maxBytes && signingIn) {
        log.warn(`size budget: cookie ${initial.headerBytes}/${maxBytes} bytes, close to the budget: ${breakdown(initial)}`);
      }
      return {};
    }
    // Lowest priority goes first; ties by name, so the outcome is deterministic.
    const candidates = Object.keys(token)
      .map((name) => ({ name, policy: policyOf(name) }))
      .filter((c): c is { name: string; policy: { drop: number } | { move: number } } => c.policy !== "required")
      .sort((a, b) => ("drop" in a.policy ? a.policy.drop : a.policy.move) - ("drop" in b.policy ? b.policy.drop : b.policy.move) || a.name.localeCompare(b.name));
    const drop: string[] = [];
    const move: string[] = [];
    const remaining: Record<string, unknown> = { ...token };
    let current = initial;
    for (const c of candidates) {
      if (fits(current)) break;
      ("drop" in c.policy ? drop : move).push(c.name);
      delete remaining[c.name];
      // The lists of what went are recorded in the token too: measure them.
      current = measure(remaining, { dropped: drop, moved: move });
    }
    const summary = `cookie ${initial.headerBytes} bytes in ${initial.cookies.length} chunk(s) over the budget of ${maxBytes} bytes in ${maxChunks}`;
    if (!fits(current)) {
      const message = `size budget: ${summary}; still ${current.headerBytes} bytes with only required claims: ${breakdown(current)}`;
      log.error(message);
      return { drop, move, refuse: { code: "budget_exceeded" satisfies BudgetErrorCode, message } };
    }
    log.warn(`size budget: ${summary}; dropped [${drop.join(", ")}], moved [${move.join(", ")}] -> ${current.headerBytes} bytes. Was: ${breakdown(initial)}`);
    return { drop, move };
  }

  return {
    movesClaims: policies.some(([, p]) => typeof p === "object" && "move" in p) || (typeof otherwise === "object" && "move" in otherwise),
    decide: ({ token, stored, log, signingIn }) => decide(token, stored, log, signingIn),
  };
}
