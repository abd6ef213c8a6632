#!/usr/bin/env bash
# `npm start`: prepare (migrate, seed, build when needed), then run the bundled OIDC provider (when
# AUTH_OIDC_ISSUER points at it) and `next start` on http://localhost:$PORT. Ctrl-C stops both.
# `npm run dev` (start.sh dev): the same with `next dev` and no build.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
mode="${1:-start}"
bash scripts/prepare.sh
[ "$mode" = dev ] || bash scripts/build-if-stale.sh

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

if [ "$AUTH_OIDC_ISSUER" = "http://127.0.0.1:$OIDC_PORT" ]; then
  node_modules/.bin/tsx scripts/oidc-provider.ts &
  pids+=($!)
else
  echo "Using the OIDC provider at $AUTH_OIDC_ISSUER"
fi

node_modules/.bin/next "$mode" -p "$PORT" -H localhost &
pids+=($!)
echo "Reference app: http://localhost:$PORT"
wait -n "${pids[@]}"
