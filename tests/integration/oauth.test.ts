import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { AppSession } from "./harness";
import { oauthRefresh } from "../../lib/claims-kit";
import { type TokenVault } from "../../lib/claims-kit/plugin";
import { prismaTokenVault } from "../../lib/claims-kit/prisma";
import { devRefreshTokenGrant } from "../../scripts/oidc/dev-login";
import { fakeClock, startHarness, type Harness } from "./harness";

const clock = fakeClock();
let h: Harness;
before(async () => {
  h = await startHarness({ clock: clock.now });
});
beforeEach(() => clock.reset());
after(async () => {
  await h.close();
});

async function account(email: string) {
  const user = await h.prisma.user.findUniqueOrThrow({ where: { email }, include: { accounts: true } });
  return user.accounts[0]!;
}

/** The kit's clock, in seconds. */
const nowSeconds = () => Math.floor(clock.now() / 1000);

/** Log lines, kept to check that no token value is ever logged. */
function recordingLog() {
  const lines: string[] = [];
  return { lines, info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(m), error: (m: string) => void lines.push(m) };
}

/** Another app instance on the same database and provider (e.g. one deployed with a wrong secret). */
function instance(overrides: { clientSecret?: string; vault?: TokenVault; logger?: ReturnType<typeof recordingLog>; wallClock?: () => number } = {}) {
  return oauthRefresh({
    clock: overrides.wallClock,
    provider: "oidc",
    issuer: h.provider.issuer,
    clientId: "integration-app",
    clientSecret: overrides.clientSecret ?? "integration-secret",
    vault: overrides.vault ?? prismaTokenVault(h.prisma),
    timeoutMs: 1500,
    logger: overrides.logger ?? recordingLog(),
  });
}

describe("OAuth refresh in vault mode, against the real provider", () => {
  test("sign-in stores the tokens in the vault and keeps only a reference in the cookie", async () => {
    const b = h.browser();
    await b.signIn("vault@example.com");
    const row = await account("vault@example.com");
    assert.ok(row.access_token && row.refresh_token);
    const token = await b.token();
    assert.deepEqual(Object.keys(token?.oauth as object).sort(), ["a", "e", "i", "p"]);
    const cookie = b.jar.get("authjs.session-token")!;
    const session = JSON.stringify(await b.session());
    for (const secret of [row.access_token!, row.refresh_token!]) {
      assert.equal(session.includes(secret), false, "no token in the session JSON");
      assert.equal(cookie.includes(secret), false);
    }
  });

  test("50 concurrent session reads at expiry make exactly one refresh call", async () => {
    const b = h.browser();
    await b.signIn("burst@example.com");
    const before = await account("burst@example.com");
    clock.advance(3600);
    h.provider.reset();
    const sessions = await Promise.all([...Array(50)].map(() => b.session<AppSession>()));
    const stats = h.provider.stats();
    assert.equal(stats.refreshGrants, 1);
    assert.equal(stats.refreshSuccess, 1);
    assert.equal(stats.reuseDetected, 0);
    for (const s of sessions) {
      assert.equal(s?.user.email, "burst@example.com");
      assert.equal(s?.errors, undefined);
    }
    const after = await account("burst@example.com");
    assert.notEqual(after.refresh_token, before.refresh_token, "rotated");
    assert.equal(after.refreshCount, 1);
    // A request still carrying the old expiry hint uses the vault's fresh tokens: no second call.
    await b.session();
    assert.equal(h.provider.stats().refreshGrants, 1);
  });

  for (const [mode, code] of [["500", "server_error"], ["timeout", "timeout"], ["drop", "network"], ["malformed", "server_error"]] as const) {
    test(`provider fault "${mode}": the session stays with error ${code}, keeps its refresh token, and recovers once the back-off has passed`, async () => {
      const email = `fault-${mode}@example.com`;
      const b = h.browser();
      await b.signIn(email);
      const before = await account(email);
      clock.advance(3600);
      await h.fault(mode);
      h.provider.reset();
      const failed = await b.session<AppSession>();
      assert.equal(failed?.user.email, email, "still signed in");
      assert.equal(failed?.errors?.oauth, code);
      const kept = await account(email);
      assert.equal(kept.refresh_token, before.refresh_token, "last good refresh token kept");
      assert.equal(kept.refreshError, null);
      assert.equal(kept.refreshLeaseOwner, null, "lease released");
      const backoff = await prismaTokenVault(h.prisma).read({ provider: "oidc", providerAccountId: kept.providerAccountId });
      assert.deepEqual([backoff?.refreshFailures, backoff?.refreshFailedWith, backoff?.refreshRetryAt], [1, code, nowSeconds() + 1], "the back-off, in the vault for every instance");
      assert.equal((await b.session<AppSession>())?.errors?.oauth, code, "within the back-off: the recorded error");
      assert.equal(h.provider.stats().faultsInjected + h.provider.stats().refreshGrants, 1, "no call within the back-off");

      clock.advance(1);
      const recovered = await b.session<AppSession>();
      assert.equal(recovered?.errors, undefined);
      const after = await account(email);
      assert.notEqual(after.refresh_token, before.refresh_token);
      assert.equal(after.refreshCount, 1);
    });
  }

  test("invalid_grant is recorded once, not retried, and does not sign the user out", async () => {
    const b = h.browser();
    await b.signIn("revoked@example.com");
    clock.advance(3600);
    await h.fault("invalid_grant");
    h.provider.reset();
    const first = await b.session<AppSession>();
    assert.equal(first?.errors?.oauth, "invalid_grant");
    const second = await b.session<AppSession>();
    assert.equal(second?.errors?.oauth, "invalid_grant");
    assert.equal(second?.user.email, "revoked@example.com");
    assert.equal(h.provider.stats().faultsInjected, 1);
    assert.equal(h.provider.stats().refreshGrants, 0, "no second attempt at the provider");
    assert.equal((await account("revoked@example.com")).refreshError, "invalid_grant");
  });

  test("401 invalid_client with a bare Basic challenge (RFC 6749 5.2, LemonLDAP) is client_error, not retried on the next request (issue #23, item 2)", async () => {
    const b = h.browser();
    await b.signIn("basic-challenge@example.com");
    clock.advance(3600);
    await h.fault("invalid_client");
    h.provider.reset();
    const first = await b.session<AppSession>();
    assert.equal(first?.errors?.oauth, "client_error");
    const second = await b.session<AppSession>();
    assert.equal(second?.errors?.oauth, "client_error");
    assert.equal(second?.user.email, "basic-challenge@example.com", "still signed in");
    assert.deepEqual([h.provider.stats().faultsInjected, h.provider.stats().refreshGrants], [1, 0], "one call; the next waits for the client_error back-off");
    assert.equal((await account("basic-challenge@example.com")).refreshError, "client_error");
  });

  test("a sustained outage (provider 500) under 50 concurrent reads a second: bounded calls, then recovery on the first attempt after it (issue #23, item 3)", async () => {
    const b = h.browser();
    await b.signIn("outage@example.com");
    clock.advance(3600);
    await h.fault("500", 1000);
    h.provider.reset();
    // 16 virtual seconds of 50 concurrent session reads each: attempts at 0, 1, 3-4 and 6-8 s
    // (steps 1, 2, 4, 8 s, each shortened by up to a quarter), the fifth at 12-16 s.
    for (let second = 0; second < 16; second++) {
      const sessions = await Promise.all([...Array(50)].map(() => b.session<AppSession>()));
      for (const s of sessions) assert.equal(s?.errors?.oauth, "server_error");
      clock.advance(1);
    }
    const calls = h.provider.stats().faultsInjected;
    assert.ok(calls >= 4 && calls <= 5, `${calls} token calls for 800 reads`);
    await h.fault("none");
    // The outage is over: the first attempt after the back-off in force (at most 16 s) refreshes.
    let waited = 0;
    while ((await b.session<AppSession>())?.errors !== undefined) {
      clock.advance(1);
      assert.ok(++waited <= 16, "recovered within the step in force");
    }
    assert.deepEqual([h.provider.stats().refreshSuccess, h.provider.stats().reuseDetected], [1, 0]);
  });

  test("Retry-After on a 503 is honoured by every request", async () => {
    const b = h.browser();
    await b.signIn("retry-after@example.com");
    // Past the access token's expiry whatever the sign-in took (while valid it would be served).
    clock.advance(3700);
    await h.fault("503", 1, 30);
    h.provider.reset();
    // An instance of its own: a Retry-After also holds off this client's other grants in the process.
    const app = instance();
    const token = await b.token();
    assert.equal(await app.accessToken(token, nowSeconds()), null);
    clock.advance(29);
    assert.equal(await app.accessToken(token, nowSeconds()), null);
    assert.equal(h.provider.stats().faultsInjected + h.provider.stats().refreshGrants, 1, "nothing before Retry-After");
    clock.advance(1);
    assert.ok(await app.accessToken(token, nowSeconds()));
    assert.equal(h.provider.stats().refreshSuccess, 1);
  });

  test("400 invalid_request (LemonLDAP's unknown refresh token): refresh_rejected, then invalid_grant on the confirming attempt; no more calls", async () => {
    const b = h.browser();
    await b.signIn("rejected@example.com");
    clock.advance(3600);
    await h.fault("invalid_request", 1000);
    h.provider.reset();
    assert.equal((await b.session<AppSession>())?.errors?.oauth, "refresh_rejected");
    assert.equal((await b.session<AppSession>())?.errors?.oauth, "refresh_rejected", "within the back-off");
    clock.advance(1);
    assert.equal((await b.session<AppSession>())?.errors?.oauth, "invalid_grant");
    clock.advance(600);
    const later = await b.session<AppSession>();
    assert.deepEqual([later?.errors?.oauth, later?.user.email], ["invalid_grant", "rejected@example.com"], "stopped, still signed in: sign in again");
    assert.equal(h.provider.stats().faultsInjected, 2);
    assert.equal((await account("rejected@example.com")).refreshError, "invalid_grant");
    await h.fault("none");
  });

  test("revoking a user's grant revokes the refresh token at the provider", async () => {
    const b = h.browser();
    await b.signIn("leaver@example.com");
    const row = await account("leaver@example.com");
    h.provider.reset();
    assert.deepEqual(await h.oauth.revokeUser(row.userId), { revoked: 1, failed: 0, unsupported: 0, accounts: [{ providerAccountId: row.providerAccountId, outcome: "revoked" }] });
    assert.equal(h.provider.stats().revocations, 1);
    const cleared = await account("leaver@example.com");
    assert.equal(cleared.refresh_token, null);
    assert.equal(cleared.refreshError, "revoked");
    const reuse = await devRefreshTokenGrant({ issuer: h.provider.issuer, clientId: "integration-app", clientSecret: "integration-secret", refreshToken: row.refresh_token! });
    assert.equal(reuse.body?.error, "invalid_grant");
  });
});

describe("security review fixes (items 4, 5, 12), against the real provider and database", () => {
  test("item 4: the vault's end-of-refresh writes are conditional: complete only for the lease owner, adopt only over the presented refresh token", async () => {
    const b = h.browser();
    await b.signIn("lease@example.com");
    const row = await account("lease@example.com");
    const vault = prismaTokenVault(h.prisma);
    const ref = { provider: row.provider, providerAccountId: row.providerAccountId };
    const now = Math.floor(Date.now() / 1000);
    assert.equal(await vault.acquire(ref, "instance-a", now, now - 1), true, "A's lease, already run out");
    assert.equal(await vault.acquire(ref, "instance-b", now, now + 30), true, "B takes it over");
    const fromA = { accessToken: "access-from-a", refreshToken: "refresh-from-a", expiresAt: now + 3600, rotated: true };
    assert.equal(await vault.complete(ref, "instance-a", fromA, now), false, "A no longer holds the lease");
    const untouched = await account("lease@example.com");
    assert.deepEqual([untouched.refresh_token, untouched.refreshLeaseOwner, untouched.refreshCount], [row.refresh_token, "instance-b", 0]);
    assert.equal(await vault.adopt(ref, "not-the-presented-token", fromA, now), false);
    assert.equal(await vault.adopt(ref, row.refresh_token!, fromA, now), true, "the row still holds the token A presented");
    const adopted = await account("lease@example.com");
    assert.deepEqual(
      [adopted.refresh_token, adopted.access_token, adopted.refreshCount, adopted.refreshLeaseOwner],
      ["refresh-from-a", "access-from-a", 1, "instance-b"],
      "saved; B's lease left alone (B re-reads before calling and finds fresh tokens)",
    );
    assert.equal(await vault.complete(ref, "instance-b", { ...fromA, accessToken: "access-from-b", refreshToken: "refresh-from-b" }, now), true);
    const completed = await vault.read(ref);
    assert.deepEqual([completed?.refreshToken, completed?.leaseOwner, completed?.leaseUntil, completed?.refreshCount], ["refresh-from-b", null, null, 2]);
    // A terminal error is stored with its time, which the client_error back-off reads back.
    assert.equal(await vault.acquire(ref, "instance-c", now, now + 30), true);
    await vault.stop(ref, "instance-c", "client_error", now);
    const stopped = await vault.read(ref);
    assert.deepEqual([stopped?.refreshError, stopped?.refreshErrorAt, stopped?.leaseOwner], ["client_error", now, null]);
  });

  test("item 5a: a client_error (a wrong client secret during a deploy) is retried after the back-off and the session recovers", async () => {
    const b = h.browser();
    await b.signIn("deploy@example.com");
    const before = await account("deploy@example.com");
    clock.advance(3600);
    // The instance deployed with a wrong secret refreshes first: the provider refuses the client.
    assert.equal(await instance({ clientSecret: "wrong-secret" }).accessToken(await b.token(), nowSeconds()), null);
    const stored = await account("deploy@example.com");
    assert.deepEqual([stored.refreshError, stored.refreshErrorAt, stored.refresh_token], ["client_error", nowSeconds(), before.refresh_token]);

    // The secret is fixed; within the back-off the session reports the code and nobody calls the provider.
    h.provider.reset();
    const during = await b.session<AppSession>();
    assert.equal(during?.user.email, "deploy@example.com");
    assert.equal(during?.errors?.oauth, "client_error");
    assert.equal(h.oauth.isDue(await b.token(), nowSeconds()), false, "stopped: the proxy leaves it alone");
    assert.equal(h.provider.stats().tokenRequests, 0);

    clock.advance(300);
    assert.equal(h.oauth.isDue(await b.token(), nowSeconds()), true, "the back-off has passed");
    const recovered = await b.session<AppSession>();
    assert.equal(recovered?.errors, undefined);
    const after = await account("deploy@example.com");
    assert.deepEqual([after.refreshError, after.refreshErrorAt, after.refreshCount], [null, null, 1]);
    assert.notEqual(after.refresh_token, before.refresh_token);
    assert.deepEqual([h.provider.stats().refreshSuccess, h.provider.stats().reuseDetected], [1, 0]);
  });

  test("item 5b: rotated tokens that cannot be saved are served by this process and saved later; the provider never sees the consumed refresh token", async () => {
    const b = h.browser();
    await b.signIn("unsaved@example.com");
    const before = await account("unsaved@example.com");
    const real = prismaTokenVault(h.prisma);
    let down = true;
    const flaky: TokenVault = {
      ...real,
      complete: (...args) => (down ? Promise.reject(new Error("database is locked")) : real.complete(...args)),
      adopt: (...args) => (down ? Promise.reject(new Error("database is locked")) : real.adopt(...args)),
    };
    const logger = recordingLog();
    const app = instance({ vault: flaky, logger });
    clock.advance(3600);
    const token = await b.token();
    h.provider.reset();

    const served = await app.accessToken(token, nowSeconds());
    assert.ok(served && served.accessToken !== before.access_token, "a new access token");
    assert.equal((await account("unsaved@example.com")).refresh_token, before.refresh_token, "not saved yet");
    assert.deepEqual(await app.accessToken(token, nowSeconds()), served, "served from this process's memory");
    assert.equal(h.provider.stats().refreshGrants, 1, "no second refresh with the consumed token");

    down = false;
    assert.deepEqual(await app.accessToken(token, nowSeconds()), served);
    const saved = await account("unsaved@example.com");
    assert.deepEqual([saved.access_token, saved.refreshCount, saved.refreshLeaseOwner], [served.accessToken, 1, null]);
    assert.notEqual(saved.refresh_token, before.refresh_token);

    // The app's own instance refreshes from the saved token later: it is the live one.
    clock.advance(3600);
    const session = await b.session<AppSession>();
    assert.equal(session?.errors, undefined);
    assert.deepEqual([h.provider.stats().refreshSuccess, h.provider.stats().reuseDetected, h.provider.stats().grantsRevoked], [2, 0, 0]);
    for (const secret of [before.refresh_token!, before.access_token!, saved.refresh_token!, served.accessToken]) {
      assert.equal(logger.lines.some((line) => line.includes(secret)), false, "no token in the logs");
    }
  });

  test("item 5c: a terminal error stops the claim: not due any more, later requests do not touch the vault, the code stays in session.errors", async () => {
    const b = h.browser();
    await b.signIn("stopped@example.com");
    clock.advance(3600);
    await h.fault("invalid_grant");
    const first = await b.session<AppSession>();
    assert.equal(first?.errors?.oauth, "invalid_grant");
    const token = await b.token();
    assert.deepEqual((token?.oauth as { s?: unknown }).s, { c: "invalid_grant", t: nowSeconds() });
    assert.equal(h.oauth.isDue(token, nowSeconds() + 86_400), false, "the proxy no longer calls the session endpoint for it");
    h.provider.reset();
    h.takeQueries();
    const second = await b.session<AppSession>();
    assert.equal(second?.user.email, "stopped@example.com");
    assert.equal(second?.errors?.oauth, "invalid_grant", "what the reauth hook reads");
    assert.deepEqual(h.takeQueries().filter((q) => q.includes('"Account"')), []);
    assert.equal(h.provider.stats().tokenRequests, 0);
  });

  test("item 12: a revocation the provider refuses keeps the tokens and reports the failure", async () => {
    const b = h.browser();
    await b.signIn("leaver-kept@example.com");
    const row = await account("leaver-kept@example.com");
    h.provider.reset();
    const logger = recordingLog();
    assert.deepEqual(await instance({ clientSecret: "wrong-secret", logger }).revokeUser(row.userId), {
      revoked: 0,
      failed: 1,
      unsupported: 0,
      accounts: [{ providerAccountId: row.providerAccountId, outcome: "failed", code: "client_error", detail: "the provider refused the client: invalid_client" }],
    });
    assert.equal(h.provider.stats().revocations, 0);
    const kept = await account("leaver-kept@example.com");
    assert.deepEqual([kept.refresh_token, kept.access_token, kept.refreshError], [row.refresh_token, row.access_token, null], "kept: the grant is live");
    assert.equal(logger.lines.some((line) => line.includes(row.refresh_token!)), false);
    // Still revocable, because the token was kept.
    assert.equal((await h.oauth.revokeUser(row.userId)).revoked, 1);
    assert.equal(h.provider.stats().revocations, 1);
  });
});

describe("issue #22: no instance presents a refresh token another instance consumed but could not save", () => {
  test("instance A's vault writes fail for longer than the old 22-s lease: B does not present the consumed token; once A saves, B uses A's tokens; no reuse at the provider", async () => {
    const b = h.browser();
    await b.signIn("hold@example.com");
    const before = await account("hold@example.com");
    const real = prismaTokenVault(h.prisma);
    let down = true;
    // A's connection to the database breaks right after it took the lease: its saves fail.
    const broken: TokenVault = {
      ...real,
      complete: (...args) => (down ? Promise.reject(new Error("database is locked")) : real.complete(...args)),
      adopt: (...args) => (down ? Promise.reject(new Error("database is locked")) : real.adopt(...args)),
    };
    let wall = Date.now();
    const wallClock = () => wall;
    const a = instance({ vault: broken, wallClock });
    const other = instance({ wallClock });
    // Past the access token's expiry whatever the sign-in took (while valid it would be served).
    clock.advance(3700);
    const token = await b.token();
    h.provider.reset();

    const fromA = await a.accessToken(token, nowSeconds());
    assert.ok(fromA && fromA.accessToken !== before.access_token, "A refreshed (the provider rotated the refresh token)");
    assert.equal((await account("hold@example.com")).refresh_token, before.refresh_token, "not saved: the vault still holds the consumed refresh token");

    // The outage outlasts the lease a refresh used to take (22 s); B gets a request.
    wall += 60_000;
    h.takeQueries();
    assert.equal(await other.accessToken(token, nowSeconds()), null, "B has no token to give (the old one expired) and does not refresh");
    assert.deepEqual([h.provider.stats().refreshGrants, h.provider.stats().reuseDetected], [1, 0], "B did not present the consumed refresh token");
    const statements = h.takeQueries().filter((q) => q.includes('"Account"'));
    assert.ok(statements.length <= 2, `B: a read and a refused acquire, no wait (${statements.length} statements)`);

    // A's database comes back: A saves (its next request, or its background retry), and B uses A's tokens.
    down = false;
    assert.deepEqual(await a.accessToken(token, nowSeconds()), fromA);
    assert.equal((await other.accessToken(token, nowSeconds()))?.accessToken, fromA.accessToken);
    assert.deepEqual([h.provider.stats().refreshGrants, h.provider.stats().reuseDetected, h.provider.stats().grantsRevoked], [1, 0, 0]);
    // And the next refresh, by B, presents the live refresh token.
    clock.advance(3600);
    assert.ok(await other.accessToken(token, nowSeconds()));
    assert.deepEqual([h.provider.stats().refreshSuccess, h.provider.stats().reuseDetected], [2, 0]);
  });

  test("a refresh costs 4 vault statements: read, acquire, read under the lease, save", async () => {
    const b = h.browser();
    await b.signIn("statements@example.com");
    clock.advance(3600);
    const app = instance();
    const token = await b.token();
    h.takeQueries();
    assert.ok(await app.accessToken(token, nowSeconds()));
    const statements = h.takeQueries().filter((q) => q.includes('"Account"'));
    assert.deepEqual(statements.map((q) => q.trim().split(/\s+/)[0]), ["SELECT", "UPDATE", "SELECT", "UPDATE"]);
  });
});
