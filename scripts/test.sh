#!/usr/bin/env bash
# The whole test suite: system packages, build, types, lint, then vitest on the embedded
# database (PGlite) and on PostgreSQL. PostgreSQL is required in CI (CI=true); elsewhere its run
# is skipped with a notice when no server answers at PARLEY_TEST_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

# The lock file must be what npm makes of package.json (else `npm ci` refuses it, or installs
# something else than was tested): npm rewrites it in a scratch copy, and any change is drift.
check_lock_file() {
  local scratch; scratch="$(mktemp -d)"
  cp package.json package-lock.json "$scratch/"
  mkdir -p "$scratch/scripts" && cp -r scripts/empty-package "$scratch/scripts/" # overrides' target
  # Workspaces: their package.json files are part of what the lock file resolves.
  local ws
  for ws in $(node -p 'require("./package.json").workspaces?.join(" ") ?? ""'); do
    for dir in $ws; do
      [ -f "$dir/package.json" ] && mkdir -p "$scratch/$dir" && cp "$dir/package.json" "$scratch/$dir/"
    done
  done
  if ! (cd "$scratch" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null); then
    rm -rf "$scratch"; echo "package-lock.json: npm could not resolve package.json (see above)" >&2; return 1
  fi
  if ! diff -u package-lock.json "$scratch/package-lock.json" >"$scratch/drift.diff"; then
    head -n 40 "$scratch/drift.diff" >&2
    rm -rf "$scratch"
    echo "package-lock.json has drifted from package.json: run 'npm install' and commit package-lock.json" >&2
    return 1
  fi
  rm -rf "$scratch"
}
echo "== lock file matches package.json"
check_lock_file

bash scripts/install-system-deps.sh --with-browser
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
npm run typecheck
npm run lint

RESULTS_DIR="$(mktemp -d)"
trap 'rm -rf "$RESULTS_DIR"' EXIT
run_vitest() { local name=$1; shift; npx vitest run --reporter=default --reporter=json --outputFile="$RESULTS_DIR/$name.json" "$@"; }
# Suites that never open a database (providers against their fakes, audio, HTTP pieces, the
# browser) run once, in the PGlite pass; the PostgreSQL pass repeats everything that stores.
NO_DATABASE=(--exclude 'test/conformance/**' --exclude 'test/llm/**' --exclude 'test/stt/**' --exclude 'test/tts/**'
  --exclude 'test/providers/**' --exclude 'test/speech/**' --exclude 'test/webhooks-http/**' --exclude 'test/browser/**'
  --exclude 'test/receiver/generated-drift.test.ts' --exclude 'test/receiver/package-unit.test.ts'
  --exclude 'test/receiver/pack.test.ts' --exclude 'test/receiver/sync-relay.test.ts' --exclude 'test/structure/**')

echo "== vitest on PGlite (embedded)"
(unset PARLEY_TEST_DATABASE_URL; run_vitest pglite)

PG_URL="${PARLEY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
if node -e "const c=new (require('pg').Client)({connectionString:process.argv[1]});c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))" "$PG_URL"; then
  echo "== vitest on PostgreSQL ($PG_URL)"
  PARLEY_TEST_DATABASE_URL="$PG_URL" run_vitest postgres "${NO_DATABASE[@]}"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG_URL, and CI requires it" >&2
  exit 1
else
  echo "== PostgreSQL not reachable at $PG_URL: skipped its run (set PARLEY_TEST_DATABASE_URL)"
fi

# One plain closing line over both runs.
node -e '
const fs = require("fs"); let passed = 0, failed = 0, skipped = 0;
for (const f of fs.readdirSync(process.argv[1])) {
  const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
  passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$RESULTS_DIR"
