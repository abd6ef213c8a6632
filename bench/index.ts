// `npm run bench`: cookie bytes and hot-path cost, the seed way vs the toolkit way. Prints tables;
// nothing here is asserted (timings vary by machine). Offline: tokens are synthetic but sized like
// real ones, and every cookie is produced by Auth.js's own encode().
import { performance } from "node:perf_hooks";
import { encode } from "@auth/core/jwt";
import {
  appClaims,
  claim,
  claimsKit,
  definePermissions,
  measureToken,
  memoryServerDataStore,
  permissions,
  roles,
  sizeBudget,
  tenant,
} from "../lib/claims-kit";

const SECRET = "bench-secret-0123456789abcdef0123456789";
const SALT = "authjs.session-token";
const CHUNK = 3936;

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
    logger: { info() {}, warn() {}, error() {} },
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

async function cookie(token: Record<string, unknown>): Promise<{ bytes: number; chunks: number }> {
  const value = await encode({ token, secret: SECRET, salt: SALT });
  const chunks = Math.ceil(value.length / CHUNK);
  // "name=value" per cookie ("authjs.session-token" or "authjs.session-token.N"), joined by "; ".
  const names = chunks === 1 ? SALT.length + 1 : chunks * (SALT.length + 3) + 2 * (chunks - 1);
  return { bytes: value.length + names, chunks };
}

function time(label: string, iterations: number, fn: () => unknown): { label: string; us: number } {
  for (let i = 0; i < Math.min(200, iterations); i++) fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return { label, us: ((performance.now() - start) * 1000) / iterations };
}

async function timeAsync(label: string, iterations: number, fn: () => Promise<unknown>): Promise<{ label: string; us: number }> {
  for (let i = 0; i < Math.min(200, iterations); i++) await fn();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  return { label, us: ((performance.now() - start) * 1000) / iterations };
}

async function main(): Promise<void> {
  console.log("\nCookie bytes (Cookie header, via Auth.js encode)\n");
  console.log(["scenario", "seed way", "chunks", "toolkit way", "chunks", "saved"].join(" | "));
  console.log("--- | ---: | ---: | ---: | ---: | ---:");
  for (const s of scenarios) {
    const seed = await cookie(seedToken(s));
    const kitToken = await toolkitToken(s);
    const kit = await cookie(kitToken);
    console.log([s.name, seed.bytes, seed.chunks, kit.bytes, kit.chunks, `${Math.round((1 - kit.bytes / seed.bytes) * 100)}%`].join(" | "));
  }

  console.log("\nPermissions claim alone (JSON bytes)\n");
  console.log("permissions | string array | compact");
  console.log("---: | ---: | ---:");
  for (const n of [6, 12, 40]) {
    const list = catalog.slice(0, n);
    console.log([n, JSON.stringify(list).length, JSON.stringify(access.encode(list)).length].join(" | "));
  }

  console.log("\nCost per token write (µs per operation, this machine)\n");
  const big = await toolkitToken(scenarios[1]!);
  const seed = seedToken(scenarios[1]!);
  const rows = [
    time("measureToken (toolkit token)", 20_000, () => measureToken(big)),
    time("measureToken (seed token, 8 KB)", 5_000, () => measureToken(seed)),
    await timeAsync("Auth.js encode (toolkit token)", 2_000, () => encode({ token: big, secret: SECRET, salt: SALT })),
    await timeAsync("Auth.js encode (seed token)", 2_000, () => encode({ token: seed, secret: SECRET, salt: SALT })),
  ];
  const plain = async ({ token }: { token: Record<string, unknown> }) => token;
  const kit = claimsKit({ logger: { info() {}, warn() {}, error() {} }, plugins: [roles({ roles: ["admin"], load: () => "admin" }), permissions({ set: access, from: ["role"] })] });
  const kitToken = (await kit.callbacks.jwt({ token: { ...base }, user: { id: base.sub }, trigger: "signIn" }))!;
  const budgeted = claimsKit({ logger: { info() {}, warn() {}, error() {} }, plugins: [roles({ roles: ["admin"], load: () => "admin" }), permissions({ set: access, from: ["role"] })], budget: sizeBudget() });
  rows.push(await timeAsync("jwt(): hand-written pass-through", 20_000, () => plain({ token: kitToken })));
  rows.push(await timeAsync("jwt(): composed kit, plain request", 20_000, () => kit.callbacks.jwt({ token: kitToken })));
  rows.push(await timeAsync("jwt(): composed kit + sizeBudget", 20_000, () => budgeted.callbacks.jwt({ token: kitToken })));
  console.log("operation | µs/op");
  console.log("--- | ---:");
  for (const r of rows) console.log(`${r.label} | ${r.us.toFixed(2)}`);
  console.log("");
}

await main();
