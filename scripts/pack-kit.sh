#!/usr/bin/env bash
# Build the toolkit package (lib/claims-kit: ESM + .d.ts) and pack it into .pack/claims-kit-<version>.tgz,
# exactly what `npm publish` would ship. Prints the tarball's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/lib/claims-kit"
node build.mjs >&2
mkdir -p "$ROOT/.pack"
name="$(npm pack --silent --pack-destination "$ROOT/.pack")"
echo "$ROOT/.pack/$name"
