// An in-memory TokenVault with the Prisma vault's semantics, for the refresh unit tests.
import type { TokenSet, TokenVault, VaultEntry } from "@/lib/claims-kit/plugin";

const NO_BACKOFF = { refreshFailures: 0, refreshFailedWith: null, refreshRetryAt: null };

/**
 * One account's row, shared by "processes" (compare-and-set lease, writes conditional on the owner
 * or on the presented refresh token, the back-off cleared by a save, a stop, a sign-in and a
 * revocation). `control.failSaves` makes that many complete/adopt calls throw, as a database that
 * is down would; `calls` counts statements.
 */
export function memoryVault(initial: Partial<VaultEntry>, now = 1_800_000_000) {
  const entry: VaultEntry = { accessToken: "a0", refreshToken: "r0", idToken: null, expiresAt: now + 60, refreshedAt: now, refreshCount: 0, refreshError: null, refreshErrorAt: null, ...NO_BACKOFF, leaseOwner: null, leaseUntil: null, ...initial };
  const calls = { read: 0, acquire: 0, complete: 0, adopt: 0, release: 0, backOff: 0, stop: 0 };
  const control = { failSaves: 0, onSaved: () => {} };
  const save = (t: TokenSet, at: number) => {
    Object.assign(entry, { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt, refreshedAt: at, refreshCount: entry.refreshCount + 1, refreshError: null, refreshErrorAt: null, ...NO_BACKOFF });
    control.onSaved();
  };
  const down = () => {
    if (control.failSaves > 0) {
      control.failSaves--;
      throw new Error("database is locked");
    }
  };
  const vault: TokenVault = {
    read: async () => {
      calls.read++;
      return { ...entry };
    },
    store: async (_r, t, at) => void Object.assign(entry, { accessToken: t.accessToken, refreshToken: t.refreshToken ?? entry.refreshToken, expiresAt: t.expiresAt, refreshedAt: at, refreshError: null, refreshErrorAt: null, ...NO_BACKOFF, leaseOwner: null, leaseUntil: null }),
    acquire: async (_r, owner, at, until) => {
      calls.acquire++;
      if (entry.leaseUntil !== null && entry.leaseUntil >= at) return false;
      Object.assign(entry, { leaseOwner: owner, leaseUntil: until });
      return true;
    },
    complete: async (_r, owner, t, at) => {
      calls.complete++;
      down();
      if (entry.leaseOwner !== owner) return false;
      Object.assign(entry, { leaseOwner: null, leaseUntil: null });
      save(t, at);
      return true;
    },
    adopt: async (_r, presented, t, at) => {
      calls.adopt++;
      down();
      if (entry.refreshToken !== presented) return false;
      save(t, at);
      return true;
    },
    release: async (_r, owner) => {
      calls.release++;
      if (entry.leaseOwner === owner) Object.assign(entry, { leaseOwner: null, leaseUntil: null });
    },
    backOff: async (_r, owner, b) => {
      calls.backOff++;
      if (entry.leaseOwner === owner) Object.assign(entry, { leaseOwner: null, leaseUntil: null, refreshFailures: b.failures, refreshFailedWith: b.failedWith, refreshRetryAt: b.retryAt });
    },
    stop: async (_r, owner, error, at) => {
      calls.stop++;
      if (entry.leaseOwner === owner) Object.assign(entry, { leaseOwner: null, leaseUntil: null, refreshError: error, refreshErrorAt: at, ...NO_BACKOFF });
    },
    accountsOf: async () => [{ provider: "oidc", providerAccountId: "u1" }],
    clear: async (_r, error, at) => void Object.assign(entry, { accessToken: null, refreshToken: null, refreshError: error, refreshErrorAt: at, ...NO_BACKOFF, leaseOwner: null, leaseUntil: null }),
  };
  return Object.assign(vault, { entry, calls, control });
}
