#!/usr/bin/env bash
# The Prisma CLI with the project's environment (offline, WASM schema engine).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
exec node_modules/.bin/prisma "$@"
