// Revocation at the provider (RFC 7009) of a user's refresh tokens, keeping them unless the
// provider confirmed: a grant still live there must stay revocable.
import type { TokenVault } from "../engine/ports";
import type { KitLogger } from "../engine/types";
import type { ProviderClient } from "./provider";
import type { ProviderEndpoints } from "./oauth-client";
import { processRevocationResponse, requestRevocation } from "./token-endpoint";
import type { Failure, RevokeOutcome, RevokeUserResult } from "./types";
import { accountKey as keyOf, type vaultRefresher } from "./vault-mode";

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** What {@link revokeUserTokens} needs. */
export interface RevokeDeps {
  vault: TokenVault | undefined;
  provider: ProviderClient;
  unsaved: ReturnType<typeof vaultRefresher>["unsaved"] | undefined;
  options: { provider: string; issuer?: string };
  log: KitLogger;
}

/**
 * Revoke every refresh token of a user at the provider; see `OAuthRefreshPlugin.revokeUser`.
 *
 * @example
 * ```ts
 * const result = await revokeUserTokens(deps, userId); // { revoked, failed, unsupported, accounts }
 * ```
 */
export async function revokeUserTokens(deps: RevokeDeps, userId: string): Promise<RevokeUserResult> {
  const { vault, options, log } = deps;
  const resolveEndpoints = deps.provider.resolveEndpoints;
  const unsaved = deps.unsaved ?? new Map<string, { tokens: { refreshToken: string } }>();
  const result: RevokeUserResult = { revoked: 0, failed: 0, unsupported: 0, accounts: [] };
  if (!vault) return result;
  // A discovery failure is not "no revocation endpoint": it must not make us forget live tokens.
  let found: ProviderEndpoints | Failure;
  try {
    found = await resolveEndpoints();
  } catch (err) {
    found = { ok: false, kind: "failed", code: "network", detail: `discovery failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  for (const ref of await vault.accountsOf(userId, options.provider)) {
    const key = keyOf(ref);
    const entry = await vault.read(ref);
    // Unsaved rotated tokens are the live ones: the row holds the refresh token they replaced.
    const refreshToken = unsaved.get(key)?.tokens.refreshToken ?? entry?.refreshToken ?? null;
    let outcome: RevokeOutcome;
    if (!refreshToken) {
      outcome = { providerAccountId: ref.providerAccountId, outcome: "nothing_to_revoke" };
    } else if ("ok" in found) {
      outcome = { providerAccountId: ref.providerAccountId, outcome: "failed", code: "network", detail: found.detail };
    } else if (!found.revocationEndpoint) {
      outcome = { providerAccountId: ref.providerAccountId, outcome: "unsupported", detail: options.issuer ? "the provider's metadata lists no revocation_endpoint" : "no issuer to discover a revocation endpoint from" };
    } else {
      const answer = await processRevocationResponse(await requestRevocation(deps.provider.call(found), refreshToken));
      if (answer.ok) outcome = { providerAccountId: ref.providerAccountId, outcome: "revoked" };
      else if (answer.code === "unsupported") outcome = { providerAccountId: ref.providerAccountId, outcome: "unsupported", detail: answer.detail };
      else outcome = { providerAccountId: ref.providerAccountId, outcome: "failed", code: answer.code, detail: answer.detail };
    }
    result.accounts.push(outcome);
    if (outcome.outcome === "failed") {
      // Keep the tokens: the grant is still live at the provider, and only they can revoke it.
      result.failed++;
      log.error(`oauth revokeUser: revocation of ${key} failed (${outcome.code}: ${outcome.detail}); tokens kept so it can be retried`);
      continue;
    }
    if (outcome.outcome === "revoked") result.revoked++;
    if (outcome.outcome === "unsupported") {
      result.unsupported++;
      log.warn(`oauth revokeUser: ${key} cannot be revoked at the provider (${outcome.detail}); forgetting the tokens locally only`);
    }
    unsaved.delete(key);
    await vault.clear(ref, "revoked", nowSeconds());
  }
  return result;
}
