#!/usr/bin/env bash
# `npm test`: everything, on a fresh machine. Installs or builds what the tests need (idempotent, cached), type-checks
# and lints the whole project, checks that committed generated files match their source, then runs every jest project.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== prerequisites"
bash test/setup/install-prerequisites.sh
echo "== control plane binaries (built from Go modules when missing from the cache)"
bash test/control-plane/build.sh

echo "== type check"
npx tsc -p tsconfig.json

echo "== lint (eslint, prettier --check)"
npm run --silent lint

echo "== generated files match their source (npm run synth)"
npm run --silent synth >/dev/null
if [ -n "$(git status --porcelain -- templates)" ]; then
  git status --porcelain -- templates >&2
  echo "templates/ differ from \`npm run synth\` output: run it and commit the result" >&2
  exit 1
fi

echo "== tests"
results=$(mktemp)
status=0
# --forceExit: a stray handle in one test file must not hold CI until its time limit; global teardown still
# stops every process the run started.
npx jest --ci --forceExit --json --outputFile="$results" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$results" || true
rm -f "$results"
exit "$status"
