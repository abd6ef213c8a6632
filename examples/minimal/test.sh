#!/usr/bin/env bash
# Proof of reuse: build the toolkit's npm package, install it into this separate app (never a path
# into lib/), build the app with an empty environment, and run its Playwright e2e against the
# root's dev OpenID provider. Exits non-zero on any failure. Run from anywhere:
#   bash examples/minimal/test.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EXAMPLE=minimal
# pack_kit, install_deps, install_kit, build_app, free_port: shared with examples/database.
source "$HERE/../../scripts/example-app.sh"

pack_kit
cd "$HERE"
install_deps
install_kit
build_app

# A clean environment for the servers too: the root's scripts/env.sh exports the reference app's
# settings (PORT, AUTH_URL, issuer...), which must not leak into this app or its provider.
step "playwright (root's Playwright, examples/minimal/playwright.config.ts)"
cd "$ROOT"
# Two ports nothing listens on now (MINIMAL_PORT / MINIMAL_OIDC_PORT win when set), so the example
# runs beside anything else on the machine (the reference app, another checkout's suite).
app_port="${MINIMAL_PORT:-$(free_port)}"
oidc_port="${MINIMAL_OIDC_PORT:-$(free_port)}"
while [ "$oidc_port" = "$app_port" ]; do oidc_port="$(free_port)"; done
echo "   app on localhost:$app_port, provider on 127.0.0.1:$oidc_port"
env -i PATH="$PATH" HOME="$HOME" NEXT_TELEMETRY_DISABLED=1 MINIMAL_PORT="$app_port" MINIMAL_OIDC_PORT="$oidc_port" \
  ${CHROMIUM_PATH:+CHROMIUM_PATH="$CHROMIUM_PATH"} ${CI:+CI="$CI"} \
  node_modules/.bin/playwright test -c examples/minimal/playwright.config.ts
done_step
