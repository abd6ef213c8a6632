// The claim rules: what a patch may contain, checked before anything is applied.
import type { Runtime } from "./compile";
import { PROTECTED_CLAIMS } from "./compile";
import type { Failure, Outcome } from "./errors";
import { type Claims, isPlainObject, type Work } from "./work";
import type { AnyPlugin } from "./types";

/** Values that look like raw credentials; refused in client-visible claims. */
const SENSITIVE_VALUE = [
  /^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}/, // Stripe secret keys
  /^AKIA[0-9A-Z]{16}$/, // AWS access key ids
  /^gh[pousr]_[A-Za-z0-9]{30,}/, // GitHub tokens
  /^xox[abprs]-[A-Za-z0-9-]{10,}/, // Slack tokens
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /^eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]+$/, // a raw JWT (an access or id token)
];

/** The JSON a value encodes to in the token, or undefined when it has none (BigInt, cycle). */
function encodeJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();

/**
 * Check a plugin's patch against the claim rules; returns the refusal, or null when it may be
 * applied. Never throws: a claim check that throws is a refusal like one that returns false.
 */
export function refusal(rt: Runtime, plugin: AnyPlugin, patch: unknown): Failure | null {
  if (patch === undefined) return null;
  try {
    if (!isPlainObject(patch)) return { ok: false, kind: "refused", code: "claim_invalid", detail: "a patch must be a plain object" };
    for (const key of Object.keys(patch)) {
      if (PROTECTED_CLAIMS.has(key)) return { ok: false, kind: "refused", code: "claim_protected", detail: `"${key}" is protected` };
      if (!Object.hasOwn(plugin.claims, key)) {
        const owner = rt.owners.get(key)?.plugin;
        return { ok: false, kind: "refused", code: "claim_not_owned", detail: owner ? `"${key}" belongs to plugin "${owner}"` : `"${key}" is not declared by this plugin` };
      }
      const value = patch[key];
      if (value === undefined || value === null) continue;
      const spec = plugin.claims[key]!;
      if (spec.check && !spec.check(value)) return { ok: false, kind: "refused", code: "claim_invalid", detail: `value for "${key}" fails its check` };
      const json = encodeJson(value);
      if (json === undefined) return { ok: false, kind: "refused", code: "claim_invalid", detail: `value for "${key}" is not JSON (BigInt, cycle…): a token must encode` };
      const limit = spec.maxBytes ?? rt.claimMaxBytes;
      const bytes = encoder.encode(json).length;
      if (spec.visibility !== "server" && bytes > limit) return { ok: false, kind: "refused", code: "claim_invalid", detail: `value for "${key}" is ${bytes} bytes encoded, over its limit of ${limit}` };
      if (spec.visibility === "client" && typeof value === "string" && SENSITIVE_VALUE.some((re) => re.test(value))) {
        return { ok: false, kind: "refused", code: "claim_sensitive", detail: `value for "${key}" looks like a raw credential; client claims reach the browser` };
      }
    }
    return null;
  } catch (err) {
    return { ok: false, kind: "refused", code: "claim_invalid", detail: `checking the patch threw: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Apply an already-checked patch; returns the names of claims whose value changed. */
export function apply(plugin: AnyPlugin, patch: Claims, w: Work): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const target = plugin.claims[key]!.visibility === "server" ? w.server : w.token;
    if (value === null) {
      if (target === w.server || key in w.token) changed.push(key);
      if (target === w.server) w.server[key] = null;
      else delete w.token[key];
    } else {
      if (JSON.stringify(target[key]) !== JSON.stringify(value)) changed.push(key);
      target[key] = value;
    }
  }
  return changed;
}

/**
 * Check a patch written by server code (online or offline): any declared claim, whoever owns it,
 * but never a protected one, and each value must pass its claim's rules. Returns it split by owner.
 */
export function checkServerPatch(rt: Runtime, patch: unknown): Outcome<{ groups: Map<number, Claims> }> {
  if (!isPlainObject(patch)) return { ok: false, kind: "refused", code: "claim_invalid", detail: "a patch must be a plain object" };
  const groups = new Map<number, Claims>();
  for (const key of Object.keys(patch)) {
    if (PROTECTED_CLAIMS.has(key)) return { ok: false, kind: "refused", code: "claim_protected", detail: `"${key}" is protected` };
    const owner = rt.owners.get(key);
    if (!owner) return { ok: false, kind: "refused", code: "claim_not_owned", detail: `"${key}" is not declared by any plugin` };
    groups.set(owner.index, { ...groups.get(owner.index), [key]: patch[key] });
  }
  for (const [index, part] of groups) {
    const refused = refusal(rt, rt.plugins[index]!, part);
    if (refused) return refused;
  }
  return { ok: true, groups };
}
