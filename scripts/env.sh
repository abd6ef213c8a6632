# Sourced by every script: the defaults that make the reference app run with no configuration.
# Anything already set in the environment wins, so the same scripts work against another
# database or another OIDC provider.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export PATH="$ROOT/node_modules/.bin:$PATH"
export NEXT_TELEMETRY_DISABLED=1

# A per-checkout secret, made once and kept in .env.local (git-ignored), so sessions survive restarts.
if [ -z "${AUTH_SECRET:-}" ]; then
  if [ -f "$ROOT/.env.local" ] && grep -q '^AUTH_SECRET=' "$ROOT/.env.local"; then
    AUTH_SECRET="$(grep '^AUTH_SECRET=' "$ROOT/.env.local" | head -1 | cut -d= -f2-)"
  else
    AUTH_SECRET="$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))')"
    echo "AUTH_SECRET=$AUTH_SECRET" >> "$ROOT/.env.local"
  fi
fi
export AUTH_SECRET

mkdir -p "$ROOT/.data"
export DATABASE_URL="${DATABASE_URL:-file:$ROOT/.data/dev.db}"
export PORT="${PORT:-3000}"
export OIDC_PORT="${OIDC_PORT:-9000}"
# A second provider a signed-in user can link (the Provider API page shows both token sets). With
# the bundled provider it is a second client there; with your own provider set AUTH_WORK_* (or
# leave AUTH_WORK_ISSUER unset: no second provider).
if [ -z "${AUTH_OIDC_ISSUER:-}" ]; then
  export AUTH_WORK_ISSUER="${AUTH_WORK_ISSUER:-http://127.0.0.1:$OIDC_PORT}"
  export AUTH_WORK_ID="${AUTH_WORK_ID:-reference-app-work}"
  export AUTH_WORK_SECRET="${AUTH_WORK_SECRET:-reference-app-work-dev-secret}"
  # The bundled provider's Shared Signals transmitter (its page: http://127.0.0.1:$OIDC_PORT/ssf)
  # pushes security events to the app. With your own provider set AUTH_SSF_* yourself.
  export AUTH_SSF_ISSUER="${AUTH_SSF_ISSUER-http://127.0.0.1:$OIDC_PORT}"
  export AUTH_SSF_AUDIENCE="${AUTH_SSF_AUDIENCE:-http://localhost:$PORT}"
  export AUTH_SSF_PUSH_TOKEN="${AUTH_SSF_PUSH_TOKEN:-reference-app-dev-ssf-push-token}"
  # 127.0.0.1, not localhost: the provider's Node may try ::1 first.
  export OIDC_SSF_PUSH_URI="${OIDC_SSF_PUSH_URI:-http://127.0.0.1:$PORT/api/auth/ssf/events}"
fi
export AUTH_OIDC_ISSUER="${AUTH_OIDC_ISSUER:-http://127.0.0.1:$OIDC_PORT}"
export AUTH_OIDC_ID="${AUTH_OIDC_ID:-reference-app}"
export AUTH_OIDC_SECRET="${AUTH_OIDC_SECRET:-reference-app-dev-secret}"
export AUTH_TRUST_HOST="${AUTH_TRUST_HOST:-true}"

# Prisma 6.19 runs its CLI through the bundled WASM engine (see prisma.config.ts); these only stop
# it from trying to download native engines it never uses.
export PRISMA_QUERY_ENGINE_LIBRARY="${PRISMA_QUERY_ENGINE_LIBRARY:-$ROOT/package.json}"
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$ROOT/package.json}"
export PRISMA_HIDE_UPDATE_MESSAGE=1
export CHECKPOINT_DISABLE=1
export OIDC_REDIRECT_URIS="${OIDC_REDIRECT_URIS:-http://localhost:$PORT/api/auth/callback/oidc}"
export OIDC_POST_LOGOUT_URIS="${OIDC_POST_LOGOUT_URIS:-http://localhost:$PORT/}"
# The bundled provider POSTs logout tokens here (OIDC Back-Channel Logout). 127.0.0.1, not
# localhost: the provider's Node may try ::1 first.
export OIDC_BACKCHANNEL_LOGOUT_URI="${OIDC_BACKCHANNEL_LOGOUT_URI:-http://127.0.0.1:$PORT/api/auth/backchannel-logout}"
