#!/usr/bin/env bash
# Run a command with the reference app's default environment (scripts/env.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
exec "$@"
