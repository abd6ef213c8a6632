#!/usr/bin/env bash
# The servers Playwright tests run against: the bundled OIDC provider and `next start`, on their own
# ports with a fresh SQLite database, so a test run never touches the dev database. With
# E2E_OIDC_ISSUER (and E2E_OIDC_ID / E2E_OIDC_SECRET) the app signs in at that provider instead
# (playwright.lemonldap.config.ts: LemonLDAP::NG) and the bundled one is not started.
set -euo pipefail
export PORT="${E2E_PORT:-3100}"
export OIDC_PORT="${E2E_OIDC_PORT:-9100}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
db="${E2E_DB:-e2e}"
mkdir -p "$ROOT/.data"
rm -f "$ROOT/.data/$db.db" "$ROOT/.data/$db.db-journal"
export DATABASE_URL="file:$ROOT/.data/$db.db"
unset AUTH_OIDC_ISSUER AUTH_OIDC_ID AUTH_OIDC_SECRET AUTH_WORK_ISSUER AUTH_WORK_ID AUTH_WORK_SECRET OIDC_REDIRECT_URIS OIDC_POST_LOGOUT_URIS OIDC_BACKCHANNEL_LOGOUT_URI AUTH_SSF_ISSUER AUTH_SSF_AUDIENCE AUTH_SSF_PUSH_TOKEN AUTH_SSF_POLL_URL AUTH_SSF_POLL_TOKEN OIDC_SSF_PUSH_URI
if [ -n "${E2E_OIDC_ISSUER:-}" ]; then
  export AUTH_OIDC_ISSUER="$E2E_OIDC_ISSUER" AUTH_OIDC_ID="${E2E_OIDC_ID:?}" AUTH_OIDC_SECRET="${E2E_OIDC_SECRET:?}"
fi
exec bash "$ROOT/scripts/start.sh"
