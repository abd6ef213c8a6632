#!/usr/bin/env bash
# `next build` unless .next is newer than every source it depends on (FORCE_BUILD=1 to force).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
stale=""
if [ ! -f .next/BUILD_ID ]; then
  stale=yes
else
  stale="$(find app lib auth.ts auth.config.ts proxy.ts instrumentation.ts next.config.mjs package-lock.json \
    -newer .next/BUILD_ID -type f -not -path 'lib/generated/*' -not -path 'lib/claims-kit/dist/*' -print -quit 2>/dev/null || true)"
fi
if [ -n "$stale" ] || [ "${FORCE_BUILD:-}" = 1 ]; then
  # With an empty environment, as in a Docker image built before its secrets exist: the build must
  # need no AUTH_SECRET, DATABASE_URL or OIDC issuer (they are read at run time).
  env -i PATH="$PATH" HOME="${HOME:-/root}" NEXT_TELEMETRY_DISABLED=1 node_modules/.bin/next build
fi
