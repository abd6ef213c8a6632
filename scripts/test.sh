#!/usr/bin/env bash
# `npm test`: install what the tests need (Debian's Chromium, node modules), then run every layer:
# typecheck, the docs' snippets, lint, unit, integration (SQLite, and PostgreSQL when one answers), Playwright e2e
# against `next build && next start`, and the example apps (examples/minimal, examples/database) on the packed toolkit.
# Idempotent; stops at the first failing layer.
set -euo pipefail
# tests/unit/**: bash expands the globs below (node 20's --test takes file names, not patterns).
shopt -s globstar
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "== installing Debian's chromium (Playwright drives it; it never downloads a browser)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci"
  npm ci --no-audit --no-fund
fi

# LemonLDAP::NG, the second, independent OpenID provider the suite signs in to (Debian packages and
# a host name for its portal's cookie domain; root on Debian). Anywhere else the suite says so in
# one line and goes on without it; on CI it must install.
llng_status=0
bash scripts/lemonldap/install.sh || llng_status=$?
if [ "$llng_status" -eq 3 ] && [ -z "${CI:-}" ]; then
  echo "== lemonldap: skipped (the suites that need it say why)"
elif [ "$llng_status" -ne 0 ]; then
  echo "LemonLDAP::NG could not be installed (exit $llng_status)" >&2
  exit 1
else
  export E2E_LEMONLDAP=1
fi

source scripts/env.sh
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

layer() {
  local name="$1"; shift
  echo "== $name"
  "$@" 2>&1 | tee -a "$log"
}

# The static layers side by side (each uses one core; about 20 s instead of 40): typecheck, then the
# docs (every ts/tsx snippet of README.md and docs/ compiles against the package's entries, and
# docs/errors.md is what `npm run docs` renders from the code tables); lint beside them. A failure
# in either stops the suite at the wait.
( layer typecheck node_modules/.bin/tsc --noEmit -p tsconfig.json
  layer docs node --import tsx --test --test-reporter=spec tests/docs/*.test.ts ) &
static_pid=$!
layer lint node_modules/.bin/eslint .
wait "$static_pid"
# Two unit files at a time (node 20 defaults to one on two cores): each runs in its own process.
layer unit node --import tsx --test --test-concurrency=2 --test-reporter=spec tests/unit/**/*.test.ts
layer build bash scripts/build-if-stale.sh
# A test or hook that has not finished after 5 minutes fails, naming itself, instead of holding the
# suite until CI's limit (the slowest, the PostgreSQL model run, takes under a minute).
TEST_TIMEOUT_MS=300000
# Two integration files at a time: each has a database of its own (freshDatabase) and its servers on free ports.
# The Redis change-feed tests need a Redis server (CI machines have one); without one they skip, saying why.
node scripts/redis-available.mjs || echo "== redis: none answers at ${REDIS_URL:-redis://127.0.0.1:6379}; tests/integration/redis-change-feed.test.ts skips its Redis tests"
layer integration node --import tsx --test --test-concurrency=2 --test-timeout="$TEST_TIMEOUT_MS" --test-reporter=spec tests/integration/*.test.ts
# The suites of claims, intents, tenants, refresh, revocation and back-channel logout again, under
# Auth.js's database strategy (the cookie an opaque session token, the kit's side in the registry).
layer integration-database env KIT_TEST_STRATEGY=database node --import tsx --test --test-concurrency=2 --test-timeout="$TEST_TIMEOUT_MS" --test-reporter=spec \
  tests/integration/claims.test.ts tests/integration/updates.test.ts tests/integration/grants.test.ts tests/integration/freshness.test.ts \
  tests/integration/oauth.test.ts tests/integration/backchannel.test.ts
# The same integration suite on PostgreSQL, where a server is reachable (CI machines have one;
# a laptop usually does not, and the default path never needs it).
if node scripts/pg-available.mjs; then
  layer integration-postgresql env KIT_TEST_DB=postgres node --import tsx --test --test-concurrency=2 --test-timeout="$TEST_TIMEOUT_MS" --test-reporter=spec tests/integration/*.test.ts
else
  echo "== integration-postgresql: skipped, no PostgreSQL at ${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
fi
# The accessibility scan covers every page at one width per user; A11Y_FULL=1 scans the full matrix
# (every page at 1280 and 390 px for every user, and in dark mode).
layer e2e node_modules/.bin/playwright test
# The same build under Auth.js's database strategy (AUTH_SESSION_STRATEGY=database).
layer e2e-database node_modules/.bin/playwright test -c playwright.database.config.ts
# The same app in Chromium against LemonLDAP::NG (its own login, consent and logout pages).
if [ "${E2E_LEMONLDAP:-}" = 1 ]; then
  layer e2e-lemonldap node_modules/.bin/playwright test -c playwright.lemonldap.config.ts
else
  echo "== e2e-lemonldap: skipped (LemonLDAP::NG is not installed here; see above)"
fi
# The package as it ships: built (one bundled .d.ts per entry, its public API held against the
# checked-in reports in lib/claims-kit/api: a change fails here until `npm run kit:api`), packed as
# an npm tarball once, installed into each example app, built with an empty environment and signed
# in to in Chromium: examples/minimal (no database) and examples/database (Auth.js's database
# strategy on SQLite, migrated with the SQL files the installed package ships).
layer package bash examples/test.sh

# One closing line for the whole suite (node's runner prints "ℹ pass N", Playwright "N passed").
passed=$(awk '/^ℹ pass [0-9]+/ {s+=$3} /^ +[0-9]+ passed/ {s+=$1} END {print s+0}' "$log")
failed=$(awk '/^ℹ fail [0-9]+/ {s+=$3} /^ +[0-9]+ failed/ {s+=$1} END {print s+0}' "$log")
echo "total: $passed passed, $failed failed"
