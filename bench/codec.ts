// The session codec micro-benchmark: Auth.js's encode/decode (jose on WebCrypto, keys derived on
// every call) against claims-kit/codec (node:crypto, keys cached), on the same claims.
import { decode as authjsDecode, encode as authjsEncode, type JWT } from "@auth/core/jwt";
import { sessionCodec } from "../lib/claims-kit/codec";
import { fmt, median, type Table } from "./report";
import { timeMedian, type Cost } from "./timing";

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

/** Per-operation cost of both codecs on `claims` (µs), and the CPU ratio of a session read. */
export async function codecTable(claims: JWT = ALICE_CLAIMS, label = "alice's claims"): Promise<{ table: Table; ratio: number }> {
  const ours = sessionCodec();
  const params = { secret: SECRET, salt: SALT };
  const theirsToken = await authjsEncode({ ...params, token: claims });
  const oursToken = await ours.encode({ ...params, token: claims });
  // Distinct tokens, more than the codec remembers (it skips decrypting a token it opened in the
  // last minute): every decode here decrypts, as the first read of a new cookie does.
  const pool = await Promise.all(Array.from({ length: 1024 }, () => ours.encode({ ...params, token: claims })));
  let next = 0;
  const fresh = () => pool[next++ % pool.length]!;
  const samples = 7;
  const ops = {
    encode: [() => authjsEncode({ ...params, token: claims }), () => ours.encode({ ...params, token: claims })],
    decode: [() => authjsDecode({ ...params, token: theirsToken }), () => ours.decode({ ...params, token: fresh() })],
    both: [
      async () => authjsDecode({ ...params, token: await authjsEncode({ ...params, token: claims }) }),
      async () => ours.decode({ ...params, token: await ours.encode({ ...params, token: claims }) }),
    ],
  } as const;
  const rows = {} as Record<keyof typeof ops, { authjs: Cost; kit: Cost; ratio: number }>;
  for (const op of Object.keys(ops) as Array<keyof typeof ops>) {
    const [theirs, mine] = ops[op];
    // Paired samples, back to back: other load on the machine hits both sides of each ratio.
    const pairs: Array<[Cost, Cost]> = [];
    for (let s = 0; s < samples; s++) pairs.push([await timeMedian(1, 200, theirs), await timeMedian(1, 3_000, mine)]);
    const med = (side: 0 | 1, key: keyof Cost) => median(pairs.map((p) => p[side][key]));
    rows[op] = {
      authjs: { cpu: med(0, "cpu"), wall: med(0, "wall") },
      kit: { cpu: med(1, "cpu"), wall: med(1, "wall") },
      ratio: median(pairs.map(([a, k]) => a.cpu / k.cpu)),
    };
  }
  const ratio = rows.both.ratio;
  const table: Table = {
    title: `Session codec, µs per operation (${label}, cookie ${oursToken.length} characters; medians of ${samples} paired runs)`,
    columns: ["operation", "Auth.js CPU", "claims-kit/codec CPU", "ratio (CPU)", "Auth.js wall", "claims-kit/codec wall"],
    numeric: [1, 2, 3, 4, 5],
    rows: (["encode", "decode", "both"] as const).map((op) => [
      op === "both" ? "decode + encode (one session read)" : op,
      fmt(rows[op].authjs.cpu, 1),
      fmt(rows[op].kit.cpu, 1),
      `${fmt(rows[op].ratio, 1)}x`,
      fmt(rows[op].authjs.wall, 1),
      fmt(rows[op].kit.wall, 1),
    ]),
    notes: [
      "CPU: process CPU time (all threads, WebCrypto's pool included) per operation; wall: elapsed time per operation, one at a time.",
      "Ratio: the median of paired samples (Auth.js, then claims-kit/codec, back to back).",
    ],
  };
  return { table, ratio };
}
