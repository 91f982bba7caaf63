#!/usr/bin/env bash
# The whole test suite: system packages, build, types, lint, then vitest on the embedded
# database (PGlite) and on PostgreSQL. PostgreSQL is required in CI (CI=true); elsewhere its run
# is skipped with a notice when no server answers at PARLEY_TEST_DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

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
  --exclude 'test/providers/**' --exclude 'test/speech/**' --exclude 'test/webhooks-http/**' --exclude 'test/browser/**')

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
