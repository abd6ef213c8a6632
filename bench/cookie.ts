// Cookie bytes and the cost of the kit's token-write steps, the seed way vs the toolkit way.
// Offline: tokens are synthetic but sized like real ones, and every cookie is produced by
// Auth.js's own encode().
import { encode } from "@auth/core/jwt";
import { appClaims, claim, claimsKit, permissions, roles, sizeBudget, tenant } from "../lib/claims-kit";
import { definePermissions } from "../lib/claims-kit/access";
import { measureToken, memoryServerDataStore } from "../lib/claims-kit/plugin";
import { fmt, type Table } from "./report";
import { time } from "./timing";

const SECRET = "bench-secret-0123456789abcdef0123456789";
const SALT = "authjs.session-token";
const CHUNK = 3936;
const quiet = { info() {}, warn() {}, error() {} };

const catalog = Array.from({ length: 40 }, (_, i) => `resource${String(i).padStart(2, "0")}:action${i % 4}`);
const access = definePermissions({ permissions: catalog, roles: { admin: "*", member: catalog.slice(0, 12) } });
const b64 = (n: number) => "x".repeat(n);
const jwtLike = (n: number) => `eyJhbGciOiJSUzI1NiJ9.${b64(n - 60)}.${b64(38)}`;

interface Scenario {
  name: string;
  permissions: string[];
  groups: string[];
}
const scenarios: Scenario[] = [
  { name: "member, 12 permissions, 5 groups", permissions: catalog.slice(0, 12), groups: ["users", "eng", "eng-platform", "oncall", "berlin"] },
  { name: "admin, 40 permissions, 120 groups", permissions: catalog, groups: Array.from({ length: 120 }, (_, i) => `engineering-platform-team-${String(i).padStart(3, "0")}-long-name`) },
];

const base = { sub: "cmwrm4cn500037h7d1fuxwmlp", name: "Alice Admin", email: "alice@example.com", picture: null };

/** The seed recipes: ids and role, a permissions string array, a tenant object, all OAuth tokens. */
function seedToken(s: Scenario): Record<string, unknown> {
  return {
    ...base,
    id: base.sub,
    role: "admin",
    permissions: s.permissions,
    tenant: { id: "cmwrmfcot0000xs7d0vxvcmzo", name: "Acme Corp", role: "admin" },
    groups: s.groups,
    access_token: jwtLike(1000),
    refresh_token: b64(220),
    id_token: jwtLike(1100),
    expires_at: 1_800_000_000,
  };
}

/** The toolkit: compact permissions, ids only, short keys, groups moved server-side, tokens in the vault. */
async function toolkitToken(s: Scenario): Promise<Record<string, unknown>> {
  const kit = claimsKit({
    logger: quiet,
    serverStore: memoryServerDataStore(),
    keys: { tenantId: "tid", tenantRole: "trole", permissions: "perm" },
    plugins: [
      roles({ roles: ["admin", "member"], load: () => "admin" }),
      tenant({ roles: ["admin", "member"], defaultTenant: () => ({ tenantId: "cmwrmfcot0000xs7d0vxvcmzo", role: "admin" }), membership: () => ({ role: "admin" }) }),
      permissions({ set: access, from: ["tenantRole"], globalGrants: () => s.permissions }),
      appClaims({
        id: "oauth",
        // Vault mode: the cookie keeps which account holds the tokens and when the access token expires.
        claims: { acct: claim.token<string>(), atExp: claim.token<number>() },
        load: () => ({ acct: "cmwrm4cn600057h7dx1y2z3ab", atExp: 1_800_000_000 }),
      }),
      appClaims({ id: "directory", claims: { groups: claim.client<string[]>(undefined, { maxBytes: 1 << 20 }) }, load: () => ({ groups: s.groups }) }),
    ],
    budget: sizeBudget({ claims: { groups: { move: 1 } } }),
  });
  const token = await kit.callbacks.jwt({ token: { ...base }, user: { id: base.sub }, trigger: "signIn" });
  return token!;
}

/** The `Cookie` header bytes of a session token: "name=value" per chunk, joined by "; ". */
export function cookieBytes(value: string, name = SALT): { bytes: number; chunks: number } {
  const chunks = Math.ceil(value.length / CHUNK);
  const names = chunks === 1 ? name.length + 1 : chunks * (name.length + 3) + 2 * (chunks - 1);
  return { bytes: value.length + names, chunks };
}

/** Cookie bytes per scenario, the permissions claim alone, and the cost of each token-write step. */
export async function cookieTables(): Promise<Table[]> {
  const bytes: Table = {
    title: "Cookie bytes, synthetic claim sets (Cookie header, via Auth.js encode)",
    columns: ["scenario", "seed way", "chunks", "toolkit way", "chunks", "saved"],
    numeric: [1, 2, 3, 4, 5],
    rows: [],
  };
  for (const s of scenarios) {
    const seed = cookieBytes(await encode({ token: seedToken(s), secret: SECRET, salt: SALT }));
    const kit = cookieBytes(await encode({ token: await toolkitToken(s), secret: SECRET, salt: SALT }));
    bytes.rows.push([s.name, `${seed.bytes} B`, seed.chunks, `${kit.bytes} B`, kit.chunks, `${Math.round((1 - kit.bytes / seed.bytes) * 100)}%`]);
  }

  const perms: Table = { title: "Permissions claim alone (JSON bytes)", columns: ["permissions", "string array", "compact"], numeric: [0, 1, 2], rows: [] };
  for (const n of [6, 12, 40]) {
    const list = catalog.slice(0, n);
    perms.rows.push([n, JSON.stringify(list).length, JSON.stringify(access.encode(list)).length]);
  }

  const big = await toolkitToken(scenarios[1]!);
  const seed = seedToken(scenarios[1]!);
  const kit = claimsKit({ logger: quiet, plugins: [roles({ roles: ["admin"], load: () => "admin" }), permissions({ set: access, from: ["role"] })] });
  const kitToken = (await kit.callbacks.jwt({ token: { ...base }, user: { id: base.sub }, trigger: "signIn" }))!;
  const budgeted = claimsKit({ logger: quiet, plugins: [roles({ roles: ["admin"], load: () => "admin" }), permissions({ set: access, from: ["role"] })], budget: sizeBudget() });
  const plain = async ({ token }: { token: Record<string, unknown> }) => token;
  const steps: Array<[string, number, () => unknown]> = [
    ["measureToken (toolkit token)", 20_000, () => measureToken(big)],
    ["measureToken (seed token, 8 KB)", 5_000, () => measureToken(seed)],
    ["Auth.js encode (toolkit token)", 1_000, () => encode({ token: big, secret: SECRET, salt: SALT })],
    ["Auth.js encode (seed token)", 1_000, () => encode({ token: seed, secret: SECRET, salt: SALT })],
    ["jwt(): hand-written pass-through", 20_000, () => plain({ token: kitToken })],
    ["jwt(): composed kit, plain request", 20_000, () => kit.callbacks.jwt({ token: kitToken })],
    ["jwt(): composed kit + sizeBudget", 10_000, () => budgeted.callbacks.jwt({ token: kitToken })],
  ];
  const cost: Table = { title: "Cost per token write (µs per operation)", columns: ["operation", "µs/op"], numeric: [1], rows: [] };
  for (const [label, n, fn] of steps) cost.rows.push([label, fmt(await time(n, fn), 2)]);
  return [bytes, perms, cost];
}
