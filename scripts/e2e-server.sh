#!/usr/bin/env bash
# The servers Playwright tests run against: the bundled OIDC provider and `next start`, on their own
# ports with a fresh SQLite database, so a test run never touches the dev database.
set -euo pipefail
export PORT="${E2E_PORT:-3100}"
export OIDC_PORT="${E2E_OIDC_PORT:-9100}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$ROOT/.data"
rm -f "$ROOT/.data/e2e.db" "$ROOT/.data/e2e.db-journal"
export DATABASE_URL="file:$ROOT/.data/e2e.db"
unset AUTH_OIDC_ISSUER AUTH_OIDC_ID AUTH_OIDC_SECRET AUTH_WORK_ISSUER AUTH_WORK_ID AUTH_WORK_SECRET OIDC_REDIRECT_URIS OIDC_POST_LOGOUT_URIS OIDC_BACKCHANNEL_LOGOUT_URI
exec bash "$ROOT/scripts/start.sh"
