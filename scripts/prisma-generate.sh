#!/usr/bin/env bash
# Generate both Prisma clients from the one schema: SQLite (prisma/schema.prisma) and PostgreSQL
# (prisma/postgres/schema.prisma, derived here: only the provider and the output differ).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
mkdir -p prisma/postgres
sed -e 's|provider = "sqlite"|provider = "postgresql"|' \
    -e 's|output     = "./generated/prisma"|output     = "../generated/prisma-pg"|' \
    prisma/schema.prisma > prisma/postgres/schema.prisma
for schema in prisma/schema.prisma prisma/postgres/schema.prisma; do
  if ! out="$(node_modules/.bin/prisma generate --schema "$schema" 2>&1)"; then echo "$out" >&2; exit 1; fi
done
echo "generated Prisma clients (sqlite, postgresql)"
