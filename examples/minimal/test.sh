#!/usr/bin/env bash
# Proof of reuse: build the toolkit's npm package, install it into this separate app (never a path
# into lib/), build the app with an empty environment, and run its Playwright e2e against the
# root's dev OpenID provider. Exits non-zero on any failure. Run from anywhere:
#   bash examples/minimal/test.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

step_start=0
step() { step_start=$SECONDS; echo "== minimal: $*"; }
done_step() { echo "   ($((SECONDS - step_start)) s)"; }

step "pack the toolkit (scripts/pack-kit.sh)"
tarball="$(bash "$ROOT/scripts/pack-kit.sh" | tail -n 1)"
[ -f "$tarball" ] || { echo "pack-kit.sh printed no tarball path (got: $tarball)" >&2; exit 1; }
echo "   $tarball"
done_step

cd "$HERE"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund
  done_step
fi

# Not in package.json: the tarball's integrity changes with every build.
step "install the packed toolkit"
npm install --no-save --legacy-peer-deps --no-audit --no-fund "$tarball"
# `claims-kit` must resolve to the copy just installed here: the root's node_modules has a
# workspace link to lib/claims-kit, which a missing local copy would silently fall back to.
node --input-type=module -e '
  import { lstatSync, readFileSync } from "node:fs";
  import { fileURLToPath } from "node:url";
  const entry = fileURLToPath(import.meta.resolve("claims-kit"));
  const dir = `${process.cwd()}/node_modules/claims-kit`;
  if (!entry.startsWith(`${dir}/dist/`) || lstatSync(dir).isSymbolicLink()) {
    console.error(`claims-kit resolves to ${entry}, not to the packed copy in ${dir}`);
    process.exit(1);
  }
  const { name, version } = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"));
  console.log(`   ${name} ${version} from the tarball: ${entry}`);
'
done_step

# An empty environment, as in an image build: no AUTH_SECRET, no issuer, no client id.
step "next build (empty environment)"
env -i PATH="$PATH" HOME="$HOME" NEXT_TELEMETRY_DISABLED=1 node_modules/.bin/next build
# The server bundle was built from the package, never from the repository's sources (the
# server chunks' source maps name every module they hold).
if [ -n "$(find .next/server -name '*.js.map' -print -quit)" ]; then
  if grep -rqs "lib/claims-kit" .next/server; then echo "the build references lib/claims-kit" >&2; exit 1; fi
  grep -rqs "node_modules/claims-kit/dist" .next/server || { echo "the build holds no node_modules/claims-kit module" >&2; exit 1; }
fi
done_step

# A clean environment for the servers too: the root's scripts/env.sh exports the reference app's
# settings (PORT, AUTH_URL, issuer...), which must not leak into this app or its provider.
step "playwright (root's Playwright, examples/minimal/playwright.config.ts)"
cd "$ROOT"
# Two ports nothing listens on now (MINIMAL_PORT / MINIMAL_OIDC_PORT win when set), so the example
# runs beside anything else on the machine (the reference app, another checkout's suite).
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
app_port="${MINIMAL_PORT:-$(free_port)}"
oidc_port="${MINIMAL_OIDC_PORT:-$(free_port)}"
while [ "$oidc_port" = "$app_port" ]; do oidc_port="$(free_port)"; done
echo "   app on localhost:$app_port, provider on 127.0.0.1:$oidc_port"
env -i PATH="$PATH" HOME="$HOME" NEXT_TELEMETRY_DISABLED=1 MINIMAL_PORT="$app_port" MINIMAL_OIDC_PORT="$oidc_port" \
  ${CHROMIUM_PATH:+CHROMIUM_PATH="$CHROMIUM_PATH"} ${CI:+CI="$CI"} \
  node_modules/.bin/playwright test -c examples/minimal/playwright.config.ts
done_step
