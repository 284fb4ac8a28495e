#!/usr/bin/env bash
# Runs the whole jest suite (unit + integration), then, unless E2E_KIND=0, the end-to-end
# scenario on a kind cluster (e2e/kind/run.sh: the images, the chart, real pods), and ends
# with one plain line over both: "tests: N passed, N failed, N skipped". Under CI=true a
# skipped test is a failure: every test must run against the real servers, none may quietly
# step aside.
#
# Usage: run-tests.sh [jest arguments]   (E2E_KIND=0: the jest suite alone)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools/node-env.sh
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
status=0
# --forceExit: a failed end-to-end test may leave a handle open; the run must still end.
node --experimental-vm-modules node_modules/jest/bin/jest.js --ci --forceExit --json \
  --outputFile="$reports/suite.json" "$@" || status=$?

# The kind run goes after the suite, not beside it: on 2 cores the cluster and the
# integration tests' servers would only slow each other down.
if [ "${E2E_KIND:-1}" != 0 ]; then
  E2E_JEST_REPORT="$reports/kind.json" e2e/kind/run.sh || status=1
  # A run that failed before its scenario started (cluster, images, chart) wrote no report:
  # it still counts, as one failed test named after the step that failed.
  [ -f "$reports/kind.json" ] ||
    echo '{"numPassedTests":0,"numFailedTests":1,"numPendingTests":0,"numTodoTests":0,"numTotalTests":1}' \
      >"$reports/kind.json"
fi

node -e '
  const fs = require("fs");
  const sum = { numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, numTotalTests: 0 };
  for (const file of process.argv.slice(1)) {
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    for (const k of Object.keys(sum)) sum[k] += r[k];
  }
  const skipped = sum.numPendingTests + sum.numTodoTests;
  console.log(`tests: ${sum.numPassedTests} passed, ${sum.numFailedTests} failed, ${skipped} skipped`);
  if (process.env.CI === "true" && skipped > 0) { console.error("CI=true: skipped tests are not allowed"); process.exit(1); }
  if (sum.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$reports"/*.json || status=1
exit $status
