// Security round 3 (#22, item 3): the back-channel logout options come from the environment and are
// read lazily (next build needs none). A bad AUTH_OIDC_LOGOUT_ALGS used to boot fine, then every
// logout token got a 500 and provider logouts silently stopped ending sessions: `next start` must
// refuse to start instead, naming the variable. instrumentation.ts runs exactly `app.check()`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuth } from "@/auth.config";
import { readEnv } from "@/app/_lib/env";
import { createPrismaClient } from "@/app/_lib/db-client";

const base = { AUTH_SECRET: "s".repeat(32), DATABASE_URL: "file:/nonexistent/never-opened.db", AUTH_OIDC_ISSUER: "http://127.0.0.1:1", AUTH_OIDC_ID: "app", AUTH_OIDC_SECRET: "app-secret" };
const prisma = createPrismaClient(base.DATABASE_URL);
const check = (extra: Record<string, string>) => createAuth(readEnv({ ...base, ...extra }), { prisma }).check();

test("attack: start-up refuses AUTH_OIDC_LOGOUT_ALGS with HS*, none, a typo or nothing, naming the variable", () => {
  for (const value of ["RS256,HS256", "none", "RS265", "", " , "]) {
    assert.throws(() => check({ AUTH_OIDC_LOGOUT_ALGS: value }), /AUTH_OIDC_LOGOUT_ALGS/, `AUTH_OIDC_LOGOUT_ALGS=${JSON.stringify(value)} booted`);
  }
  for (const value of ["RS256", "RS256, PS256", "ES256,EdDSA"]) check({ AUTH_OIDC_LOGOUT_ALGS: value });
  check({}); // the default, RS256
});

test("start-up names every variable a running server needs and lacks", () => {
  assert.throws(() => createAuth(readEnv({}), { prisma }).check(), /configuration: AUTH_SECRET, DATABASE_URL, AUTH_OIDC_ISSUER, AUTH_OIDC_ID must be set/);
  assert.throws(() => readEnv({ CLAIMS_MAX_AGE: "soon" }), /configuration: CLAIMS_MAX_AGE /);
  assert.throws(() => readEnv({ AUTH_TOKEN_MODE: "disk" }), /configuration: AUTH_TOKEN_MODE /);
});

test("AUTH_CHANGE_FEED: redis needs REDIS_URL, postgres a PostgreSQL DATABASE_URL; start-up names the variable; bad values are refused naming theirs", () => {
  assert.throws(() => check({ AUTH_CHANGE_FEED: "redis" }), /^Error: configuration: REDIS_URL must be set when AUTH_CHANGE_FEED=redis/);
  assert.throws(() => check({ AUTH_CHANGE_FEED: "postgres" }), /configuration: AUTH_CHANGE_FEED=postgres needs a PostgreSQL DATABASE_URL/);
  assert.throws(() => readEnv({ AUTH_CHANGE_FEED: "kafka" }), /configuration: AUTH_CHANGE_FEED must be one of postgres, redis, in-process/);
  assert.throws(() => readEnv({ REDIS_URL: "http://127.0.0.1:6379" }), /configuration: REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/);
  assert.throws(() => readEnv({ AUTH_SESSION_RETENTION: "-1" }), /configuration: AUTH_SESSION_RETENTION /);
  assert.throws(() => readEnv({ AUTH_PURGE_EVERY: "hourly" }), /configuration: AUTH_PURGE_EVERY /);
  // Built lazily: nothing connects until the first request, so these boot (and close) offline.
  for (const extra of [{ AUTH_CHANGE_FEED: "redis", REDIS_URL: "redis://127.0.0.1:1" }, { AUTH_CHANGE_FEED: "in-process" }, {}] as Array<Record<string, string>>) check(extra);
});
