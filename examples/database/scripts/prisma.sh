#!/usr/bin/env bash
# The Prisma CLI, offline (`npm run db:generate`, or `bash scripts/prisma.sh <command> ...` from this
# folder): Prisma 6.19 runs it on its bundled WASM engine through the driver adapter
# (prisma.config.ts); these two variables, set to any existing file, stop it from downloading
# native engines it never uses.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PRISMA_QUERY_ENGINE_LIBRARY="${PRISMA_QUERY_ENGINE_LIBRARY:-$PWD/package.json}"
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/package.json}"
export PRISMA_HIDE_UPDATE_MESSAGE=1 CHECKPOINT_DISABLE=1
exec node_modules/.bin/prisma "$@"
