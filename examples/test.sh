#!/usr/bin/env bash
# Every example app on the toolkit as it ships (`npm test`'s package layer): pack it once
# (scripts/pack-kit.sh: the build, its public API held against lib/claims-kit/api), then run each
# example's own test.sh on that one tarball. Run from anywhere:
#   bash examples/test.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

start=$SECONDS
echo "== examples: pack the toolkit (scripts/pack-kit.sh)"
CLAIMS_KIT_TARBALL="$(bash "$ROOT/scripts/pack-kit.sh" | tail -n 1)"
export CLAIMS_KIT_TARBALL
echo "   $CLAIMS_KIT_TARBALL ($((SECONDS - start)) s)"

# minimal: JWT sessions, no database. database: Auth.js's database strategy on SQLite, with the
# package's shipped migrations.
for example in minimal database; do
  start=$SECONDS
  bash "$ROOT/examples/$example/test.sh"
  echo "== examples: $example passed ($((SECONDS - start)) s)"
done
