// The session codec against Auth.js's own (`@auth/core/jwt`) as the oracle: cookies written by
// either are read by the other, every tamper class is refused (with the reason), the header is
// byte for byte Auth.js's, secrets rotate.
import assert from "node:assert/strict";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { deflateRawSync } from "node:zlib";
import { describe, test } from "node:test";
import fc from "fast-check";
import { hkdf } from "@panva/hkdf";
import { calculateJwkThumbprint, EncryptJWT } from "jose";
import { Auth, type AuthConfig } from "@auth/core";
import { decode as authjsDecode, encode as authjsEncode, getToken, type JWT } from "@auth/core/jwt";
import { ClaimsKitError } from "@/lib/claims-kit";
import { sessionCodec, sessionKeys } from "@/lib/claims-kit/codec";
import { openedStats } from "@/lib/claims-kit/codec/jwe";

const SALT = "authjs.session-token";
const SECRET = "codec-test-secret-0123456789abcdef";
const codec = sessionCodec();
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Auth.js's decode as a value: the payload, or null where it throws (as getToken() does). */
async function oracle(token: string, secret: string | string[] = SECRET, salt = SALT): Promise<JWT | null> {
  try {
    return await authjsDecode({ token, secret, salt });
  } catch {
    return null;
  }
}

/** The 64-byte key Auth.js derives, computed here with the libraries Auth.js itself uses. */
async function authjsKey(secret: string, salt: string, bytes = 64): Promise<Uint8Array> {
  return hkdf("sha256", secret, salt, `Auth.js Generated Encryption Key (${salt})`, bytes);
}

const b64u = (bytes: Uint8Array | string) => Buffer.from(bytes).toString("base64url");

/**
 * A compact JWE with any header, MACed and encrypted correctly under Auth.js's key, built here
 * from RFC 7518 5.2.2.1 directly, so a refusal is about the header and not about the crypto.
 */
async function sealRaw(header: unknown, payload: Buffer | string, secret = SECRET): Promise<string> {
  const key = Buffer.from(await authjsKey(secret, SALT));
  const protectedHeader = b64u(typeof header === "string" ? header : JSON.stringify(header));
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", key.subarray(32), iv);
  const ciphertext = Buffer.concat([cipher.update(payload), cipher.final()]);
  const al = Buffer.alloc(8);
  al.writeBigUInt64BE(BigInt(protectedHeader.length * 8));
  const tag = createHmac("sha512", key.subarray(0, 32)).update(protectedHeader).update(iv).update(ciphertext).update(al).digest().subarray(0, 32);
  return [protectedHeader, "", b64u(iv), b64u(ciphertext), b64u(tag)].join(".");
}

async function kidOf(secret: string, salt = SALT): Promise<string> {
  return calculateJwkThumbprint({ kty: "oct", k: b64u(await authjsKey(secret, salt)) }, "sha512");
}

const claimsArb = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 10 });
const secretArb = fc.string({ unit: "binary", minLength: 1, maxLength: 40 });
const saltArb = fc.oneof(fc.constantFrom(SALT, `__Secure-${SALT}`), fc.string({ maxLength: 30 }));

describe("wire compatibility with Auth.js (property tests, Auth.js's decode as the oracle)", () => {
  test("whatever this codec writes, Auth.js reads back to the same claims plus iat/exp/jti", async () => {
    await fc.assert(
      fc.asyncProperty(claimsArb, secretArb, saltArb, fc.integer({ min: 60, max: 400 * 86_400 }), async (claims, secret, salt, maxAge) => {
        const before = nowSeconds();
        const token = await codec.encode({ token: claims, secret, salt, maxAge });
        const ours = await codec.decode({ token, secret, salt });
        const theirs = await oracle(token, secret, salt);
        assert.ok(ours && theirs);
        assert.deepEqual(ours, theirs);
        const expected = JSON.parse(JSON.stringify({ ...claims, iat: ours.iat, exp: ours.exp, jti: ours.jti })) as JWT;
        assert.deepEqual(ours, expected);
        assert.deepEqual(Object.keys(ours), Object.keys(expected));
        assert.ok(ours.iat! >= before && ours.iat! <= nowSeconds());
        assert.equal(ours.exp! - ours.iat!, maxAge);
      }),
      { numRuns: 150 },
    );
  });

  test("whatever Auth.js writes, this codec reads exactly as Auth.js does", async () => {
    await fc.assert(
      fc.asyncProperty(claimsArb, secretArb, saltArb, async (claims, secret, salt) => {
        const token = await authjsEncode({ token: claims, secret, salt });
        const theirs = await oracle(token, secret, salt);
        assert.ok(theirs);
        assert.deepEqual(await codec.decode({ token, secret, salt }), theirs);
      }),
      { numRuns: 150 },
    );
  });

  test("nbf of any type or value: both codecs agree on writing, reading and refusing", async () => {
    const now = nowSeconds();
    const nbfArb = fc.oneof(fc.integer({ min: now - 100, max: now + 100 }), fc.string({ maxLength: 4 }), fc.constantFrom(null, Number.NaN, Infinity, -0, 1.5, true));
    await fc.assert(
      fc.asyncProperty(nbfArb, async (nbf) => {
        const outcome = async (encode: typeof codec.encode) => {
          try {
            const token = await encode({ token: { sub: "u1", nbf }, secret: SECRET, salt: SALT });
            return { wrote: true, ours: await codec.decode({ token, secret: SECRET, salt: SALT }), theirs: await oracle(token) };
          } catch (err) {
            assert.ok(err instanceof TypeError, String(err));
            return { wrote: false };
          }
        };
        const mine = await outcome(codec.encode);
        const auths = await outcome(authjsEncode);
        assert.equal(mine.wrote, auths.wrote);
        // Seconds may tick between the two encodes: compare each token's two readings.
        assert.deepEqual(mine.ours, mine.theirs);
        assert.deepEqual(auths.ours, auths.theirs);
      }),
      { numRuns: 120 },
    );
  });

  test("any string at all decodes to null or to Auth.js's reading, and never throws", async () => {
    const valid = await codec.encode({ token: { sub: "u1" }, secret: SECRET, salt: SALT });
    const mutated = fc.tuple(fc.nat(valid.length), fc.nat(valid.length), fc.string({ maxLength: 3 })).map(([at, cut, insert]) => valid.slice(0, at) + insert + valid.slice(Math.max(at, cut)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), mutated), async (token) => {
        const ours = await codec.decode({ token, secret: SECRET, salt: SALT });
        if (ours !== null) assert.deepEqual(ours, await oracle(token));
      }),
      { numRuns: 400 },
    );
  });
});

describe("the exact format", () => {
  test("the protected header is Auth.js's, byte for byte: alg dir, enc A256CBC-HS512, the key's SHA-512 JWK thumbprint as kid", async () => {
    const [ours] = (await codec.encode({ token: {}, secret: SECRET, salt: SALT })).split(".");
    const [theirs] = (await authjsEncode({ token: {}, secret: SECRET, salt: SALT })).split(".");
    assert.equal(ours, theirs);
    const kid = await kidOf(SECRET);
    assert.equal(Buffer.from(ours!, "base64url").toString(), `{"alg":"dir","enc":"A256CBC-HS512","kid":"${kid}"}`);
    assert.equal(sessionKeys(SECRET, SALT).kid, kid);
    // The salt is the cookie name: the secure cookie gets another key.
    assert.notEqual(sessionKeys(SECRET, `__Secure-${SALT}`).kid, kid);
  });

  test("segments: empty encrypted key, 16-byte IV, whole AES blocks, 32-byte tag; payload keys in Auth.js's order", async () => {
    const token = await codec.encode({ token: { jti: "old", sub: "u1", exp: 1, name: "A", iat: 2 }, secret: SECRET, salt: SALT, maxAge: 60 });
    const [, key, iv, ciphertext, tag] = token.split(".");
    assert.equal(key, "");
    assert.equal(Buffer.from(iv!, "base64url").length, 16);
    assert.equal(Buffer.from(ciphertext!, "base64url").length % 16, 0);
    assert.equal(Buffer.from(tag!, "base64url").length, 32);
    const payload = (await oracle(token))!;
    // jose's setters overwrite iat/exp/jti where they stand; new ones go last in that order.
    assert.deepEqual(Object.keys(payload), ["jti", "sub", "exp", "name", "iat"]);
    assert.match(payload.jti as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, "a UUID, as Auth.js's (the size budget measures with it)");
    assert.equal(payload.exp! - payload.iat!, 60);
    const fresh = (await oracle(await codec.encode({ token: { sub: "u1" }, secret: SECRET, salt: SALT })))!;
    assert.deepEqual(Object.keys(fresh), ["sub", "iat", "exp", "jti"]);
    assert.equal(fresh.exp! - fresh.iat!, 30 * 86_400, "Auth.js's default maxAge");
  });

  test("every cookie gets its own IV and jti, across many encodes", async () => {
    const tokens = await Promise.all(Array.from({ length: 600 }, () => codec.encode({ token: { sub: "u1" }, secret: SECRET, salt: SALT })));
    assert.equal(new Set(tokens.map((t) => t.split(".")[2])).size, tokens.length);
    const ids = await Promise.all(tokens.map(async (t) => (await codec.decode({ token: t, secret: SECRET, salt: SALT }))!.jti));
    assert.equal(new Set(ids).size, tokens.length);
  });

  test("a header with the same parameters in another order is read, as JOSE requires", async () => {
    const token = await sealRaw({ kid: await kidOf(SECRET), enc: "A256CBC-HS512", alg: "dir" }, JSON.stringify({ sub: "u1" }));
    assert.deepEqual(await oracle(token), { sub: "u1" });
    assert.deepEqual(codec.open({ token, secret: SECRET, salt: SALT }), { ok: true, payload: { sub: "u1" } });
  });

  test("a header without kid is read with the first secret only, like Auth.js", async () => {
    const token = await sealRaw({ alg: "dir", enc: "A256CBC-HS512" }, JSON.stringify({ sub: "u1" }));
    assert.deepEqual(await codec.decode({ token, secret: [SECRET, "other"], salt: SALT }), { sub: "u1" });
    assert.deepEqual(codec.open({ token, secret: ["other", SECRET], salt: SALT }), { ok: false, kind: "refused", code: "tag_mismatch" });
    assert.equal(await oracle(token, ["other", SECRET]), null);
  });
});

describe("tampering: every class is refused, with its reason, and Auth.js refuses it too", () => {
  const open = (token: string, secret: string | string[] = SECRET) => codec.open({ token, secret, salt: SALT });
  const flip = (token: string, segment: number, at: number, mask: number) => {
    const parts = token.split(".");
    const bytes = Buffer.from(parts[segment]!, "base64url");
    bytes[at % bytes.length]! ^= mask;
    parts[segment] = bytes.toString("base64url");
    return parts.join(".");
  };

  test("one flipped bit anywhere in the header, IV, ciphertext or tag", async () => {
    const token = await codec.encode({ token: { sub: "u1", name: "Alice", role: "admin" }, secret: SECRET, salt: SALT });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0, 2, 3, 4), fc.nat(), fc.integer({ min: 1, max: 255 }), async (segment, at, mask) => {
        const tampered = flip(token, segment, at, mask);
        const result = open(tampered);
        assert.equal(result.ok, false);
        if (segment > 0) assert.deepEqual(result, { ok: false, kind: "refused", code: "tag_mismatch" });
        else assert.ok(["malformed", "header_refused", "unknown_key", "tag_mismatch"].includes(result.ok ? "" : result.code));
        assert.equal(await oracle(tampered), null);
      }),
      { numRuns: 300 },
    );
    // A flipped bit inside the kid names no key.
    assert.deepEqual(open(flip(token, 0, 60, 1)), { ok: false, kind: "refused", code: "unknown_key" });
  });

  test("truncated anywhere, a character dropped, an encrypted key added", async () => {
    const token = await codec.encode({ token: { sub: "u1" }, secret: SECRET, salt: SALT });
    for (let length = 0; length < token.length; length += 1) {
      assert.equal(open(token.slice(0, length)).ok, false, `prefix of ${length}`);
    }
    for (const at of [0, 5, token.indexOf("..") + 3, token.lastIndexOf(".") - 2, token.length - 1]) {
      const dropped = token.slice(0, at) + token.slice(at + 1);
      assert.equal(open(dropped).ok, false, `dropped character ${at}`);
      assert.equal(await oracle(dropped), null);
    }
    const withKey = token.replace("..", `.${b64u(randomBytes(32))}.`);
    assert.deepEqual(open(withKey), { ok: false, kind: "refused", code: "malformed" });
    assert.equal(await oracle(withKey), null);
    assert.deepEqual(open(`${token}.`), { ok: false, kind: "refused", code: "malformed" });
    assert.deepEqual(open(""), { ok: false, kind: "refused", code: "malformed" });
  });

  test("alg, enc, zip, crit or any other parameter changed, even under a valid tag", async () => {
    const kid = await kidOf(SECRET);
    const payload = JSON.stringify({ sub: "u1", exp: nowSeconds() + 60 });
    const good = await sealRaw({ alg: "dir", enc: "A256CBC-HS512", kid }, payload);
    assert.equal(open(good).ok, true, "the hand-sealed control token is valid");
    for (const header of [
      { alg: "A256KW", enc: "A256CBC-HS512", kid },
      { alg: "none", enc: "A256CBC-HS512", kid },
      { alg: "dir", enc: "A128CBC-HS256", kid },
      { alg: "dir", enc: "A256CBC-HS512", kid, crit: ["exp"], exp: 1 },
      { alg: "dir", enc: "A256CBC-HS512", kid, typ: "JWT" },
      { alg: "dir", enc: "A256CBC-HS512", kid, jku: "https://attacker.example/keys" },
      { alg: "dir", enc: "A256CBC-HS512", kid: 7 },
    ]) {
      assert.deepEqual(open(await sealRaw(header, payload)), { ok: false, kind: "refused", code: "header_refused" }, JSON.stringify(header));
    }
    for (const header of ['["dir"]', "null", '{"alg":"dir",', "\u00ff"]) {
      assert.deepEqual(open(await sealRaw(header, payload)), { ok: false, kind: "refused", code: "malformed" }, header);
    }
  });

  test("zip DEF and enc A256GCM are refused, though Auth.js's decode would read them", async () => {
    // Auth.js never writes either; accepting them only widens what a forged cookie can try.
    const zipped = await sealRaw({ alg: "dir", enc: "A256CBC-HS512", zip: "DEF", kid: await kidOf(SECRET) }, deflateRawSync(JSON.stringify({ sub: "u1" })));
    assert.deepEqual(await oracle(zipped), { sub: "u1" });
    assert.deepEqual(open(zipped), { ok: false, kind: "refused", code: "header_refused" });
    const gcm = await new EncryptJWT({ sub: "u1" }).setProtectedHeader({ alg: "dir", enc: "A256GCM" }).encrypt(await authjsKey(SECRET, SALT, 32));
    assert.deepEqual(await oracle(gcm), { sub: "u1" });
    assert.deepEqual(open(gcm), { ok: false, kind: "refused", code: "header_refused" });
  });

  test("another app's secret: its kid names no key here; without kid, the tag fails", async () => {
    const foreign = await authjsEncode({ token: { sub: "u1" }, secret: "someone-else's-secret", salt: SALT });
    assert.deepEqual(open(foreign), { ok: false, kind: "refused", code: "unknown_key" });
    assert.equal(await oracle(foreign), null);
    const noKid = await sealRaw({ alg: "dir", enc: "A256CBC-HS512" }, JSON.stringify({ sub: "u1" }), "someone-else's-secret");
    assert.deepEqual(open(noKid), { ok: false, kind: "refused", code: "tag_mismatch" });
    assert.equal(await oracle(noKid), null);
  });

  test("expired and not yet valid, with Auth.js's 15 seconds of tolerance on both", async () => {
    const t = 1_800_000_000;
    const fixed = sessionCodec({ clock: () => t * 1000 + 999 });
    const at = async (token: JWT, maxAge?: number) => fixed.open({ token: await fixed.encode({ token, secret: SECRET, salt: SALT, maxAge }), secret: SECRET, salt: SALT });
    assert.deepEqual(await at({ sub: "u1" }, -15), { ok: false, kind: "refused", code: "expired" });
    assert.equal((await at({ sub: "u1" }, -14)).ok, true);
    assert.deepEqual(await at({ sub: "u1", nbf: t + 16 }), { ok: false, kind: "refused", code: "not_yet_valid" });
    assert.equal((await at({ sub: "u1", nbf: t + 15 })).ok, true);
    // The same classes through Auth.js, well clear of the boundary (its clock is the real one).
    for (const [token, maxAge] of [[{ sub: "u1" }, -60], [{ sub: "u1", nbf: nowSeconds() + 60 }, undefined]] as const) {
      const cookie = await authjsEncode({ token, secret: SECRET, salt: SALT, maxAge });
      assert.equal(await oracle(cookie), null);
      assert.equal(await codec.decode({ token: cookie, secret: SECRET, salt: SALT }), null);
    }
  });

  test("a payload that is not a claims object, or time claims that are not numbers", async () => {
    const kid = await kidOf(SECRET);
    for (const payload of ["[1,2]", "42", '"sub"', "{", Buffer.from([0x7b, 0xff, 0x7d]), '{"exp":"never"}', '{"iat":null}', '{"nbf":[]}']) {
      const token = await sealRaw({ alg: "dir", enc: "A256CBC-HS512", kid }, payload);
      assert.deepEqual(open(token), { ok: false, kind: "refused", code: "claims_invalid" }, String(payload));
      assert.equal(await oracle(token), null, String(payload));
    }
  });

  test("a non-canonical base64url spelling of the same bytes is refused", async () => {
    const token = await codec.encode({ token: { sub: "u1" }, secret: SECRET, salt: SALT });
    // The tag's 43rd character carries 2 bits of data and 4 zero bits; setting those bits keeps the bytes.
    const last = token.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sloppy = token.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
    assert.deepEqual(open(sloppy), { ok: false, kind: "refused", code: "malformed" });
    assert.deepEqual(open(`${token}=`), { ok: false, kind: "refused", code: "malformed" });
  });
});

describe("secret rotation", () => {
  const NEW = "new-secret-0123456789abcdef-0123456789";
  const OLD = "old-secret-0123456789abcdef-0123456789";

  test("encodes with the first secret and reads cookies of every listed secret, by kid", async () => {
    const current = await codec.encode({ token: { sub: "u1" }, secret: [NEW, OLD], salt: SALT });
    assert.equal(JSON.parse(Buffer.from(current.split(".")[0]!, "base64url").toString()).kid, await kidOf(NEW));
    assert.equal((await codec.decode({ token: current, secret: [NEW, OLD], salt: SALT }))?.sub, "u1");
    assert.equal((await codec.decode({ token: current, secret: NEW, salt: SALT }))?.sub, "u1");
    assert.equal((await oracle(current, [OLD, NEW]))?.sub, "u1");

    const legacy = await authjsEncode({ token: { sub: "u2" }, secret: OLD, salt: SALT });
    assert.equal((await codec.decode({ token: legacy, secret: [NEW, OLD], salt: SALT }))?.sub, "u2");
    assert.deepEqual(codec.open({ token: legacy, secret: NEW, salt: SALT }), { ok: false, kind: "refused", code: "unknown_key" });
  });
});

describe("as Auth.js's jwt option", () => {
  const config = { providers: [], secret: SECRET, trustHost: true, basePath: "/api/auth", session: { strategy: "jwt" }, jwt: codec } satisfies AuthConfig;
  const sessionRequest = (cookie: string) => new Request("http://localhost/api/auth/session", { headers: { cookie: `${SALT}=${cookie}` } });
  const issued = (response: Response) => response.headers.getSetCookie().find((c) => c.startsWith(`${SALT}=`))?.split(";")[0]?.slice(SALT.length + 1);

  test("Auth()'s session endpoint reads either codec's cookie and re-issues one that Auth.js and getToken() read", async () => {
    for (const encode of [authjsEncode, codec.encode]) {
      const response = await Auth(sessionRequest(await encode({ token: { sub: "u1", name: "Alice", email: "a@example.com" }, secret: SECRET, salt: SALT })), config);
      assert.deepEqual(((await response.json()) as { user: unknown }).user, { name: "Alice", email: "a@example.com" });
      const cookie = issued(response)!;
      assert.equal((await oracle(cookie))?.sub, "u1");
      const req = new Request("http://localhost/", { headers: { cookie: `${SALT}=${cookie}` } });
      assert.equal((await getToken({ req, secret: SECRET, decode: codec.decode }))?.sub, "u1");
    }
  });

  test("a bad cookie: no session, the cookie cleared, Auth.js's usual JWTSessionError logged", async () => {
    const logged: string[] = [];
    const response = await Auth(sessionRequest("not-a-jwe"), { ...config, logger: { error: (e: Error) => logged.push(e.name) } });
    assert.equal(await response.json(), null);
    assert.equal(issued(response), "");
    assert.deepEqual(logged, ["JWTSessionError"]);
  });
});

describe("configuration errors throw; cookie errors never do", () => {
  test("bad options fail at once, naming the option", () => {
    assert.throws(() => sessionCodec({ clockTolerance: -1 }), (e: unknown) => e instanceof ClaimsKitError && e.code === "invalid_option" && /clockTolerance/.test(e.message));
    assert.throws(() => sessionCodec({ clock: 5 as unknown as () => number }), (e: unknown) => e instanceof ClaimsKitError && /clock/.test(e.message));
  });

  test("a missing secret is a configuration error, in encode and decode alike", async () => {
    await assert.rejects(codec.encode({ token: {}, secret: "", salt: SALT }), TypeError);
    await assert.rejects(codec.decode({ token: "a..b.c.d", secret: [], salt: SALT }), TypeError);
    await assert.rejects(codec.encode({ token: [] as unknown as JWT, secret: SECRET, salt: SALT }), TypeError);
  });

  test("no token at all decodes to null", async () => {
    assert.equal(await codec.decode({ token: undefined, secret: SECRET, salt: SALT }), null);
  });
});

describe("a token read again (proxy, layout, page, helpers) is decrypted once", () => {
  const delta = (before: { decrypted: number; reused: number }) => {
    const now = openedStats();
    return { decrypted: now.decrypted - before.decrypted, reused: now.reused - before.reused };
  };

  test("one decryption for three reads, by any codec instance in the process; each read gets its own payload", async () => {
    const token = await codec.encode({ token: { sub: "u1", role: "staff" }, secret: SECRET, salt: SALT });
    const before = openedStats();
    const first = await codec.decode({ token, secret: SECRET, salt: SALT });
    first!.role = "mutated by a caller";
    // Another instance: the proxy is bundled apart from the app's routes, with its own copy.
    const second = await sessionCodec().decode({ token, secret: SECRET, salt: SALT });
    const third = codec.open({ token, secret: [SECRET, "older"], salt: SALT });
    assert.deepEqual(delta(before), { decrypted: 1, reused: 2 });
    assert.equal(second!.role, "staff");
    assert.equal(third.ok && third.payload.role, "staff");
  });

  test("a remembered token is still refused once expired, and never served for other secrets or another salt", async () => {
    let now = Date.now();
    const timed = sessionCodec({ clock: () => now });
    const token = await timed.encode({ token: { sub: "u1" }, secret: SECRET, salt: SALT, maxAge: 60 });
    assert.equal(timed.open({ token, secret: SECRET, salt: SALT }).ok, true);
    now += 120_000;
    assert.deepEqual(timed.open({ token, secret: SECRET, salt: SALT }), { ok: false, kind: "refused", code: "expired" });

    const kept = await codec.encode({ token: { sub: "u2" }, secret: SECRET, salt: SALT });
    assert.equal(codec.open({ token: kept, secret: SECRET, salt: SALT }).ok, true);
    assert.deepEqual(codec.open({ token: kept, secret: "another-secret-0123456789abcdef", salt: SALT }), { ok: false, kind: "refused", code: "unknown_key" });
    assert.deepEqual(codec.open({ token: kept, secret: SECRET, salt: "__Secure-authjs.session-token" }), { ok: false, kind: "refused", code: "unknown_key" });

    // Without a kid the first secret is the key: a remembered open under SECRET is not served when
    // another secret comes first, exactly as a fresh open would fail.
    const noKid = await sealRaw({ alg: "dir", enc: "A256CBC-HS512" }, JSON.stringify({ sub: "u3" }));
    assert.equal(codec.open({ token: noKid, secret: SECRET, salt: SALT }).ok, true);
    assert.deepEqual(codec.open({ token: noKid, secret: ["other", SECRET], salt: SALT }), { ok: false, kind: "refused", code: "tag_mismatch" });
  });
});
