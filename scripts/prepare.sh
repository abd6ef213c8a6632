#!/usr/bin/env bash
# Make the database ready: generated clients, migrations applied, demo data seeded.
# Safe to run any number of times.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

[ -f prisma/generated/prisma-pg/client.ts ] || bash scripts/prisma-generate.sh
if ! out="$(node_modules/.bin/tsx scripts/db-migrate.ts 2>&1)"; then echo "$out" >&2; exit 1; fi
echo "$out" | grep -E 'migrations? (found|applied)|No pending|applied' || true
node_modules/.bin/tsx prisma/seed.ts

