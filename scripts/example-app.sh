# Sourced by examples/<name>/test.sh: the steps that prove an example app runs on the toolkit's
# packed npm package, never on the repository's sources. The caller sets EXAMPLE (its name, for the
# log) and runs the install and build steps in its own folder.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

step_start=0
step() { step_start=$SECONDS; echo "== $EXAMPLE: $*"; }
done_step() { echo "   ($((SECONDS - step_start)) s)"; }

# Sets TARBALL. examples/test.sh packs once for every example of a run and passes the tarball in
# CLAIMS_KIT_TARBALL; an example run on its own packs here (scripts/pack-kit.sh builds the package
# and holds its public API against lib/claims-kit/api).
pack_kit() {
  if [ -n "${CLAIMS_KIT_TARBALL:-}" ]; then
    step "the toolkit packed for this run (CLAIMS_KIT_TARBALL)"
    TARBALL="$CLAIMS_KIT_TARBALL"
  else
    step "pack the toolkit (scripts/pack-kit.sh)"
    TARBALL="$(bash "$ROOT/scripts/pack-kit.sh" | tail -n 1)"
  fi
  [ -f "$TARBALL" ] || { echo "no packed toolkit at \"$TARBALL\"" >&2; exit 1; }
  echo "   $TARBALL"
  done_step
}

# The example's own dependencies from its own lockfile; skipped while node_modules is newer than
# package-lock.json (npm writes node_modules/.package-lock.json on every install).
install_deps() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "npm ci"
    npm ci --no-audit --no-fund
    done_step
  fi
}

# Not in package.json: the tarball's integrity changes with every build.
install_kit() {
  step "install the packed toolkit"
  npm install --no-save --legacy-peer-deps --no-audit --no-fund "$TARBALL"
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
}

# An empty environment, as in an image build: no AUTH_SECRET, no issuer, no database.
build_app() {
  step "next build (empty environment)"
  env -i PATH="$PATH" HOME="$HOME" NEXT_TELEMETRY_DISABLED=1 node_modules/.bin/next build
  # The server bundle was built from the package, never from the repository's sources (the
  # server chunks' source maps name every module they hold).
  if [ -n "$(find .next/server -name '*.js.map' -print -quit)" ]; then
    if grep -rqs "lib/claims-kit" .next/server; then echo "the build references lib/claims-kit" >&2; exit 1; fi
    grep -rqs "node_modules/claims-kit/dist" .next/server || { echo "the build holds no node_modules/claims-kit module" >&2; exit 1; }
  fi
  done_step
}

# A port nothing listens on now, so an example runs beside anything else on the machine.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
