// The session codec micro-benchmark: Auth.js's encode/decode (jose on WebCrypto, keys derived on
// every call) against claims-kit/codec (node:crypto, keys cached), on the same claims.
import { decode as authjsDecode, encode as authjsEncode, type JWT } from "@auth/core/jwt";
import { sessionCodec } from "../lib/claims-kit/codec";
import { fmt, type Table } from "./report";
import { timeMedian } from "./timing";

const SECRET = "bench-secret-0123456789abcdef0123456789";
const SALT = "authjs.session-token";

/** A member's claims as the reference app writes them (alice), when no real cookie is at hand. */
export const ALICE_CLAIMS: JWT = {
  name: "Alice Admin",
  email: "alice@example.com",
  picture: null,
  sub: "cmwrm4cn500037h7d1fuxwmlp",
  role: "staff",
  tid: "cmwrmfcot0000xs7d0vxvcmzo",
  trole: "admin",
  perm: "p1.v3.Aw8",
  tier: "pro",
  credits: 120,
  dn: "Alice Admin",
  groups: ["users"],
  oauth: { p: "oidc", a: "alice@example.com", e: 1_800_000_000, i: 1_799_996_400 },
  kit: { v: 1, sid: "6f1c2a9e-3b7d-4e8a-9c0f-1a2b3c4d5e6f", iss: "claims-kit-reference-app" },
};

/** Per-operation cost of both codecs on `claims` (µs), and the ratio. */
export async function codecTable(claims: JWT = ALICE_CLAIMS, label = "alice's claims"): Promise<{ table: Table; ratio: number }> {
  const ours = sessionCodec();
  const params = { secret: SECRET, salt: SALT };
  const theirsToken = await authjsEncode({ ...params, token: claims });
  const oursToken = await ours.encode({ ...params, token: claims });
  const samples = 5;
  const rows = {
    authjs: {
      encode: await timeMedian(samples, 300, () => authjsEncode({ ...params, token: claims })),
      decode: await timeMedian(samples, 300, () => authjsDecode({ ...params, token: theirsToken })),
      both: await timeMedian(samples, 200, async () => authjsDecode({ ...params, token: await authjsEncode({ ...params, token: claims }) })),
    },
    kit: {
      encode: await timeMedian(samples, 5_000, () => ours.encode({ ...params, token: claims })),
      decode: await timeMedian(samples, 5_000, () => ours.decode({ ...params, token: oursToken })),
      both: await timeMedian(samples, 5_000, async () => ours.decode({ ...params, token: await ours.encode({ ...params, token: claims }) })),
    },
  };
  const ratio = rows.authjs.both / rows.kit.both;
  const table: Table = {
    title: `Session codec, µs per operation (${label}, cookie ${oursToken.length} characters; median of ${samples} runs)`,
    columns: ["operation", "Auth.js (@auth/core/jwt)", "claims-kit/codec", "ratio"],
    numeric: [1, 2, 3],
    rows: (["encode", "decode", "both"] as const).map((op) => [
      op === "both" ? "decode + encode (one session read)" : op,
      fmt(rows.authjs[op], 1),
      fmt(rows.kit[op], 1),
      `${fmt(rows.authjs[op] / rows.kit[op], 1)}x`,
    ]),
  };
  return { table, ratio };
}
