#!/usr/bin/env bash
# Make the reference app ready to start: generated client, migrated and seeded database, and a
# production build that is not older than the sources. Safe to run any number of times.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

[ -f lib/generated/prisma-pg/client.ts ] || bash scripts/prisma-generate.sh
if ! out="$(node_modules/.bin/tsx scripts/db-migrate.ts 2>&1)"; then echo "$out" >&2; exit 1; fi
echo "$out" | grep -E 'migrations? (found|applied)|No pending|applied' || true
node_modules/.bin/tsx prisma/seed.ts

stale=""
if [ ! -f .next/BUILD_ID ]; then
  stale=yes
else
  stale="$(find app lib auth.ts auth.config.ts next.config.mjs package-lock.json $( [ -f proxy.ts ] && echo proxy.ts ) \
    -newer .next/BUILD_ID -type f -not -path 'lib/generated/*' -print -quit 2>/dev/null || true)"
fi
if [ -n "$stale" ] || [ "${FORCE_BUILD:-}" = 1 ]; then
  node_modules/.bin/next build
fi
