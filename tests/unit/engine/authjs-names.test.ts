// Security review of the hot path (commit 21f1b64): a claim stored as one of Auth.js's own, the
// bookkeeping's left-out defaults, the codec's memo of opened tokens. Each finding is pinned here
// as the behaviour that fixed it; the rest records what held.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JWT } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, is, roles } from "@/lib/claims-kit";
import { type SessionRegistry, type SessionState } from "@/lib/claims-kit/plugin";
import { sessionCodec, sessionKeys } from "@/lib/claims-kit/codec";
import { openJwe, sealJwe } from "@/lib/claims-kit/codec/jwe";
import { memoryLogger, sessionShell, signInParams } from "../fixtures";

// ---------------------------------------------------------------------------------------------
// 3. keys: a client claim stored under one of Auth.js's own claim names
// ---------------------------------------------------------------------------------------------

describe("review: a client claim stored as Auth.js's name/email/picture", () => {
  test("at sign-in the claim never takes Auth.js's provider/user value, even when its load fails (no role escalation)", async () => {
    // An accepted configuration: `role` is a client claim and no plugin reloads on "name".
    const kit = claimsKit({
      plugins: [roles({ roles: ["user", "staff"], load: async () => { throw new Error("database hiccup"); } })],
      keys: { role: "name" },
      logger: memoryLogger(),
    });
    // What Auth.js hands jwt() at sign-in: name is the user row's / provider profile's name, which
    // the user chooses at the identity provider.
    const params = signInParams();
    params.token.name = "staff";
    params.user.name = "staff";
    const stored = (await kit.callbacks.jwt(params as never)) as JWT;
    const session = (await kit.callbacks.session({ session: sessionShell({ name: "staff", email: "alice@example.com", image: null }), token: stored } as never)) as unknown as { claims: { role?: string } };
    // A failed sign-in load leaves the role absent (fail closed).
    assert.equal(session.claims.role, undefined, `a failed role load left role=${JSON.stringify(session.claims.role)} taken from Auth.js's "name"`);
  });

  test("the app's displayName (is.stringMax(60), no control characters) never takes the provider's name unchecked when source.displayName throws", async () => {
    // As auth.config.ts declares it, with the load failing at sign-in (a database error).
    const profile = appClaims({
      id: "profile",
      claims: { displayName: claim.client<string>(is.stringMax(60), { maxBytes: 242 }) },
      load: async () => { throw new Error("database hiccup"); },
    });
    const kit = claimsKit({ plugins: [profile], keys: { displayName: "name" }, logger: memoryLogger() });
    const providerName = `${"A".repeat(300)}\u0007\u001b[2J`;
    const params = signInParams();
    params.token.name = providerName;
    const stored = (await kit.callbacks.jwt(params as never)) as JWT;
    const session = (await kit.callbacks.session({ session: sessionShell({ name: providerName, email: "alice@example.com", image: null }), token: stored } as never)) as unknown as { claims: { displayName?: string } };
    const value = session.claims.displayName;
    assert.ok(value === undefined || (value.length <= 60 && !/\p{Cc}/u.test(value)), `claims.displayName is ${value?.length} characters with control characters, never checked`);
  });

  test("a client claim without a sign-in load (set by an intent only) is not born with Auth.js's value", async () => {
    // A tier claim only ever set by an intent (validated: "free" | "pro"), stored as Auth.js's picture.
    const billing = appClaims({
      id: "billing",
      claims: { tier: claim.client<"free" | "pro">(is.oneOf(["free", "pro"])) },
      intents: { downgrade: { input: { "~standard": { version: 1, vendor: "t", validate: (v: unknown) => ({ value: v }) } }, handle: () => ({ tier: "free" as const }) } },
    });
    const kit = claimsKit({ plugins: [billing], keys: { tier: "picture" }, logger: memoryLogger() });
    const params = signInParams();
    params.token.picture = "pro"; // the user's avatar URL at the provider
    const stored = (await kit.callbacks.jwt(params as never)) as JWT;
    const session = (await kit.callbacks.session({ session: sessionShell(), token: stored } as never)) as unknown as { claims: { tier?: string } };
    assert.equal(session.claims.tier, undefined, `tier=${JSON.stringify(session.claims.tier)} came from Auth.js's picture, never from the plugin`);
  });

  test("no claim may take over Auth.js's email: apps trust session.user.email as an identity", () => {
    const contact = appClaims({ id: "contact", claims: { contactEmail: claim.client<string>(is.stringMax(254)) }, load: () => ({ contactEmail: "alice@example.com" }) });
    assert.throws(() => claimsKit({ plugins: [contact], keys: { contactEmail: "email" } }), /option "keys.contactEmail".*identity apps trust/);
  });

  test("held: token/server claims cannot take Auth.js's names; undeclared/long Auth.js names are refused", () => {
    const t = appClaims({ id: "t", claims: { internalNote: claim.token<string>() }, load: () => undefined });
    for (const short of ["name", "picture"]) assert.throws(() => claimsKit({ plugins: [t], keys: { internalNote: short } }), /only a client claim/);
    assert.throws(() => claimsKit({ plugins: [t], keys: { picture: "name" } }), /only a client claim/);
    assert.throws(() => claimsKit({ plugins: [t], keys: { nope: "name" } }), /only a client claim/);
  });
});

// ---------------------------------------------------------------------------------------------
// 3b. claimsVersion 0 / epoch "0" left out of `_k`
// ---------------------------------------------------------------------------------------------

/** A registry whose global epoch starts at "0", as prismaSessionRegistry's (no KitSetting row). */
function epochZeroRegistry(): SessionRegistry & { state: Map<string, SessionState> } {
  const state = new Map<string, SessionState>();
  let epoch = "0";
  return {
    state,
    async create({ sid, now }) {
      state.set(sid, { revoked: false, claimsVersion: 0, epoch, lastSeenAt: now, pendingPatch: null });
      return { claimsVersion: 0, epoch };
    },
    async check(sid) {
      const s = state.get(sid);
      return s ? { ...s, epoch } : null;
    },
    async touch() {},
    list: async () => [],
    revoke: async () => 0,
    bumpClaimsVersion: async () => {},
    rewritePatch: async () => 0,
    async bumpEpoch() {
      epoch = crypto.randomUUID();
      return epoch;
    },
  } as SessionRegistry & { state: Map<string, SessionState> };
}

describe("review: version 0 left out of the cookie, the epoch always in it", () => {
  const plugin = appClaims({ id: "p", claims: { tier: claim.client<string>() }, load: () => ({ tier: "free" }) });

  test("a cookie carries the epoch even at \"0\" (a kit from before reads a missing epoch as none to check), and ends after a bump", async () => {
    const registry = epochZeroRegistry();
    const kit = claimsKit({ plugins: [plugin], sessions: registry, logger: memoryLogger() });
    const stored = (await kit.callbacks.jwt(signInParams() as never)) as JWT;
    assert.equal((stored._k as { ep?: string }).ep, "0");
    assert.equal("v" in (stored._k as object), false, "version 0 is left out");
    assert.ok(await kit.callbacks.jwt({ token: stored } as never), "alive before the bump");
    await registry.bumpEpoch();
    assert.equal(await kit.callbacks.jwt({ token: stored } as never), null);
  });

  test("a cookie without `v` reloads on a version bump, and without `ep` still ends after an epoch bump", async () => {
    const registry = epochZeroRegistry();
    let loads = 0;
    const counted = appClaims({ id: "p", claims: { tier: claim.client<string>() }, load: () => ({ tier: `t${++loads}` }) });
    const kit = claimsKit({ plugins: [counted], sessions: registry, logger: memoryLogger() });
    const t0 = (await kit.callbacks.jwt(signInParams() as never)) as JWT;
    const sid = (t0._k as { sid: string }).sid;
    registry.state.get(sid)!.claimsVersion = 1;
    const t1 = (await kit.callbacks.jwt({ token: t0 } as never)) as JWT;
    assert.equal(t1.tier, "t2");
    assert.equal((t1._k as { v?: number }).v, 1);
    const withoutEpoch = { ...t1, _k: { ...(t1._k as object), ep: undefined } };
    await registry.bumpEpoch();
    assert.equal(await kit.callbacks.jwt({ token: withoutEpoch } as never), null);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. codec memo
// ---------------------------------------------------------------------------------------------

describe("review: the codec's memo of opened tokens", () => {
  const SALT = "authjs.session-token";
  const A = "review-secret-A-0123456789abcdef";
  const B = "review-secret-B-0123456789abcdef";

  test("held: the memo answers as a fresh open for rotation, salts, kid-less headers, tampering and expiry", async () => {
    let now = Date.now();
    const codec = sessionCodec({ clock: () => now });
    const token = await codec.encode({ token: { sub: "u" }, secret: A, salt: SALT, maxAge: 30 });
    assert.equal(codec.open({ token, secret: A, salt: SALT }).ok, true);
    assert.equal(codec.open({ token, secret: [B, A], salt: SALT }).ok, true, "rotation keeps an old secret for reading");
    assert.deepEqual(codec.open({ token, secret: B, salt: SALT }), { ok: false, kind: "refused", code: "unknown_key" });
    assert.deepEqual(codec.open({ token, secret: A, salt: `__Secure-${SALT}` }), { ok: false, kind: "refused", code: "unknown_key" });
    // A kid-less token made with A: remembered under A's kid; with B first it must fail.
    const kA = sessionKeys(A, SALT);
    const noKidHeader = Buffer.from(JSON.stringify({ alg: "dir", enc: "A256CBC-HS512" })).toString("base64url");
    const noKid = sealJwe({ ...kA, header: noKidHeader, aad: Buffer.from(noKidHeader), al: (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(noKidHeader.length * 8)); return b; })() }, Buffer.from(JSON.stringify({ sub: "n", exp: Math.floor(now / 1000) + 60 })));
    assert.equal(codec.open({ token: noKid, secret: A, salt: SALT }).ok, true);
    assert.deepEqual(codec.open({ token: noKid, secret: [B, A], salt: SALT }), { ok: false, kind: "refused", code: "tag_mismatch" });
    // Same token with a different (header-valid) kid spelling is a different string: never served.
    const parts = token.split(".");
    const reordered = Buffer.from(JSON.stringify({ kid: kA.kid, enc: "A256CBC-HS512", alg: "dir" })).toString("base64url");
    assert.deepEqual(codec.open({ token: [reordered, ...parts.slice(1)].join("."), secret: A, salt: SALT }), { ok: false, kind: "refused", code: "tag_mismatch" });
    // Expiry re-checked on a hit.
    now += 120_000;
    assert.deepEqual(codec.open({ token, secret: A, salt: SALT }), { ok: false, kind: "refused", code: "expired" });
    // Payload objects are fresh per read.
    const t2 = await codec.encode({ token: { sub: "m", role: "user" }, secret: A, salt: SALT });
    const p1 = (await codec.decode({ token: t2, secret: A, salt: SALT }))!;
    p1.role = "staff";
    assert.equal((await codec.decode({ token: t2, secret: A, salt: SALT }))!.role, "user");
  });

  test("held: the memo is bounded (256 entries)", async () => {
    const codec = sessionCodec();
    const first = await codec.encode({ token: { sub: "first" }, secret: A, salt: SALT });
    codec.open({ token: first, secret: A, salt: SALT });
    const memo = (globalThis as { [k: symbol]: { entries: Map<string, unknown> } })[Symbol.for("claims-kit.codec.opened")]!;
    for (let i = 0; i < 600; i++) codec.open({ token: await codec.encode({ token: { sub: `u${i}` }, secret: A, salt: SALT }), secret: A, salt: SALT });
    assert.ok(memo.entries.size <= 256, `${memo.entries.size} entries`);
    assert.equal(memo.entries.has(first), false);
  });

  test("a caller that wipes the plaintext buffer openJwe gave it changes nothing for later reads", async () => {
    const codec = sessionCodec();
    const token = await codec.encode({ token: { sub: "w" }, secret: A, salt: SALT });
    const opened = openJwe(token, [sessionKeys(A, SALT)]);
    assert.ok(opened.ok);
    opened.plaintext.fill(0); // hygiene some callers do after parsing
    // Another instance (the proxy's bundle) reading the same, valid cookie:
    assert.equal(sessionCodec().open({ token, secret: A, salt: SALT }).ok, true, "the valid cookie still opens");
    const again = openJwe(token, [sessionKeys(A, SALT)]);
    assert.ok(again.ok && JSON.parse(again.plaintext.toString()).sub === "w");
  });
});
