#!/usr/bin/env bash
# Auth.js's database strategy on the packed toolkit: install the tarball into this separate app
# (never a path into lib/), generate its Prisma client, create a fresh SQLite database and migrate
# it (this app's tables, then the SQL files the installed package ships), check the result is
# prisma/schema.prisma, build with an empty environment, and run its Playwright e2e against the
# root's dev OpenID provider. Exits non-zero on any failure. Run from anywhere:
#   bash examples/database/test.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXAMPLE=database
# pack_kit, install_kit, build_app, free_port: shared with examples/minimal.
source "$HERE/../../scripts/example-app.sh"

pack_kit
cd "$HERE"
# install_deps (scripts/example-app.sh) with one saving: better-sqlite3 has no reachable prebuilt
# binary, so its install script compiles SQLite (one to two minutes). When the root's node_modules
# holds the same version, compiled on this machine by the root's npm ci, its native module is
# copied instead; otherwise, or when that copy does not load, npm compiles it here as usual.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --ignore-scripts
  version() { node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version' "$1/package.json" 2>/dev/null || true; }
  built="$ROOT/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
  if [ -f "$built" ] && [ "$(version "$ROOT/node_modules/better-sqlite3")" = "$(version node_modules/better-sqlite3)" ]; then
    mkdir -p node_modules/better-sqlite3/build/Release
    cp "$built" node_modules/better-sqlite3/build/Release/
  fi
  if node -e 'new (require("better-sqlite3"))(":memory:").close()' 2>/dev/null; then
    echo "   better-sqlite3: the root's build of the same version"
  else
    npm rebuild better-sqlite3 --no-audit --no-fund
  fi
  done_step
fi
install_kit

# Clean environments throughout: the root's scripts/env.sh exports the reference app's settings
# (DATABASE_URL among them), which must not leak into this app, its CLI or its servers.
clean() { env -i PATH="$PATH" HOME="$HOME" "$@"; }

step "prisma generate"
clean bash scripts/prisma.sh generate
done_step

DB="${DATABASE_EXAMPLE_DB:-$HERE/.data/e2e.db}"
step "a fresh SQLite database, migrated from prisma/migrations and the installed package's SQL"
mkdir -p "$(dirname "$DB")"
rm -f "$DB" "$DB-journal" "$DB-wal" "$DB-shm"
migrated="$(clean DATABASE_URL="file:$DB" node scripts/migrate.mjs)"
echo "$migrated" | sed 's/^/   /'
# The kit's files came from the copy installed here, as an app adopting them reads them.
grep -qxF "claims-kit migrations from $HERE/node_modules/claims-kit/prisma/migrations/sqlite" <<<"$migrated" \
  || { echo "the kit's migrations were not read from $HERE/node_modules/claims-kit" >&2; exit 1; }
done_step

# What the migrations made is exactly what prisma/schema.prisma (Auth.js's models, the app's, the
# kit's fragment) describes: introspect the database, then diff the two schemas. The migration
# ledger is the runner's own table, not the app's.
step "the migrated database matches prisma/schema.prisma (prisma db pull, migrate diff)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'datasource db {\n  provider = "sqlite"\n  url      = env("DATABASE_URL")\n}\n' > "$work/pulled.prisma"
clean DATABASE_URL="file:$DB" bash scripts/prisma.sh db pull --schema "$work/pulled.prisma" >/dev/null
awk '/^model app_migrations /{skip=1} !skip{print} skip&&/^}/{skip=0}' "$work/pulled.prisma" > "$work/database.prisma"
clean DATABASE_URL="file:$DB" bash scripts/prisma.sh migrate diff --exit-code \
  --from-schema-datamodel "$work/database.prisma" --to-schema-datamodel prisma/schema.prisma \
  || { echo "the migrated database differs from prisma/schema.prisma (above: what the schema would add)" >&2; exit 1; }
done_step

build_app

step "playwright (root's Playwright, examples/database/playwright.config.ts)"
cd "$ROOT"
# Two ports nothing listens on now (DATABASE_EXAMPLE_PORT / DATABASE_EXAMPLE_OIDC_PORT win when set).
app_port="${DATABASE_EXAMPLE_PORT:-$(free_port)}"
oidc_port="${DATABASE_EXAMPLE_OIDC_PORT:-$(free_port)}"
while [ "$oidc_port" = "$app_port" ]; do oidc_port="$(free_port)"; done
echo "   app on localhost:$app_port, provider on 127.0.0.1:$oidc_port, database $DB"
clean NEXT_TELEMETRY_DISABLED=1 DATABASE_EXAMPLE_PORT="$app_port" DATABASE_EXAMPLE_OIDC_PORT="$oidc_port" DATABASE_EXAMPLE_DB="$DB" \
  ${CHROMIUM_PATH:+CHROMIUM_PATH="$CHROMIUM_PATH"} ${CI:+CI="$CI"} \
  node_modules/.bin/playwright test -c examples/database/playwright.config.ts
done_step
