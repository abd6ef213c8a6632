// Sessions seeded straight into PostgreSQL (never signed in one by one): users, their membership
// of one tenant, their UserSession row and server-side data, in multi-row INSERTs of arrays
// (`unnest`), 20,000 rows per statement. Every seeded user has the same data as the template user
// (`b0`), whose session is made by the kit's own sign-in: a seeded session's cookie is the
// template's token with the user and session ids swapped, so a claims reload of it loads exactly
// what its cookie holds (as for a real session nobody changed).
import { createHash } from "node:crypto";
import pg from "pg";
import { sessionCodec } from "../../lib/claims-kit/codec";
import { BENCH_SECRET, SESSION_COOKIE } from "../servers";

const CHUNK = 20_000;
export const SESSION_MAX_AGE = 30 * 24 * 60 * 60;
/** The id of seeded user `i` (`b0` is the template); its session id. */
export const userIdOf = (i: number) => `b${i}`;
/**
 * Shaped like the kit's own (16 random-looking bytes, base64url): the kit spreads each session's
 * reloads by a hash of its id, and sequential ids ("s-000001", "s-000002") would cluster there.
 */
export const sessionIdOf = (i: number) => createHash("sha256").update(`bench-session-${i}`).digest().subarray(0, 16).toString("base64url");

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** `sql` once per chunk of rows: `columns(i)` fills the array parameters ($1..), `scalars` follow them. */
async function chunked(client: pg.Client, from: number, to: number, sql: string, columns: (i: number) => unknown[], scalars: unknown[] = []): Promise<void> {
  for (let start = from; start < to; start += CHUNK) {
    const end = Math.min(to, start + CHUNK);
    const arrays: unknown[][] = [];
    for (let i = start; i < end; i++) columns(i).forEach((value, c) => (arrays[c] ??= []).push(value));
    await client.query(sql, [...arrays, ...scalars]);
  }
}

/** The tenant every seeded user belongs to (the demo seed's first). */
export async function benchTenant(url: string): Promise<string> {
  return withClient(url, async (c) => (await c.query<{ id: string }>(`SELECT "id" FROM "Tenant" ORDER BY "slug" LIMIT 1`)).rows[0]!.id);
}

/** Users `from`..`to - 1` (ids `b<i>`), each a member of `tenantId`; the template user is `b0`. */
export async function seedUsers(url: string, tenantId: string, from: number, to: number): Promise<void> {
  await withClient(url, async (c) => {
    await chunked(c, from, to, `INSERT INTO "User" ("id", "email", "name", "displayName", "role", "tier", "credits", "defaultTenantId", "updatedAt")
      SELECT id, email, 'Bench User', 'Bench User', 'user', 'free', 0, $3::text, now() FROM unnest($1::text[], $2::text[]) AS t(id, email)`,
    (i) => [userIdOf(i), `${userIdOf(i)}@bench.example`], [tenantId]);
    await chunked(c, from, to, `INSERT INTO "Membership" ("id", "userId", "tenantId", "role") SELECT 'm' || u, u, $2::text, 'member' FROM unnest($1::text[]) AS t(u)`,
      (i) => [userIdOf(i)], [tenantId]);
  });
}

/**
 * Sessions `from`..`to - 1` of users of the same numbers, created at `now` (seconds), with the
 * template session's server-side data (`data`).
 */
export async function seedSessions(url: string, from: number, to: number, now: number, data: string | null): Promise<void> {
  await withClient(url, async (c) => {
    await chunked(c, from, to, `INSERT INTO "UserSession" ("id", "userId", "createdAt", "lastSeenAt") SELECT s, u, $3::int, $3::int FROM unnest($1::text[], $2::text[]) AS t(s, u)`,
      (i) => [sessionIdOf(i), userIdOf(i)], [now]);
    if (data !== null) {
      await chunked(c, from, to, `INSERT INTO "SessionData" ("key", "userId", "data", "expiresAt", "updatedAt")
        SELECT 's:' || s, u, $3::text, to_timestamp($4::double precision), now() FROM unnest($1::text[], $2::text[]) AS t(s, u)`,
      (i) => [sessionIdOf(i), userIdOf(i)], [data, now + SESSION_MAX_AGE]);
    }
  });
}

/** The template session's server-side data (what each seeded session gets). */
export async function templateData(url: string, templateSid: string): Promise<string | null> {
  return withClient(url, async (c) => (await c.query<{ data: string }>(`SELECT "data" FROM "SessionData" WHERE "key" = $1`, [`s:${templateSid}`])).rows[0]?.data ?? null);
}

export async function latestSeq(url: string): Promise<number> {
  return withClient(url, async (c) => Number((await c.query<{ seq: string | null }>(`SELECT MAX("seq") AS seq FROM "KitChange"`)).rows[0]?.seq ?? 0));
}

type Token = Record<string, unknown> & { _k?: Record<string, unknown> };

/**
 * Cookies for seeded sessions: the template token with the user and session swapped and the
 * bookkeeping as a sign-in at `at` (seconds) left it (loaded, checked and verified then, at change-log
 * position `logPosition`), sealed with the app's codec and secret.
 */
export function cookieMaker(template: Token, options: { at: number; logPosition: number; overrides?: (i: number) => Record<string, unknown> }) {
  const codec = sessionCodec();
  return (i: number): Promise<string> => {
    const meta = { ...template._k, sid: sessionIdOf(i), l: options.at, c: options.at, r: options.at, q: options.logPosition };
    const token: Token = { ...template, sub: userIdOf(i), email: `${userIdOf(i)}@bench.example`, _k: meta, ...options.overrides?.(i) };
    delete token.iat;
    delete token.exp;
    delete token.jti;
    return codec.encode({ token, secret: BENCH_SECRET, salt: SESSION_COOKIE, maxAge: SESSION_MAX_AGE });
  };
}
