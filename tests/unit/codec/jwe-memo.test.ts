// The codec's memo of opened tokens (codec/jwe.ts): a read answered from it is the read a fresh
// open would give (security review of the hot path, commit 21f1b64, finding 2).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { sessionCodec, sessionKeys } from "@/lib/claims-kit/codec";
import { openJwe, sealJwe } from "@/lib/claims-kit/codec/jwe";

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
