#!/usr/bin/env bash
# Runs every test of FlowOrleans: builds the solution warning-free, then the whole test suite.
# It installs and starts what the tests need by itself, so it works on a fresh Debian machine with the .NET 10 SDK.
set -euo pipefail
cd "$(dirname "$0")/.."

results="$(pwd)/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

dotnet build FlowOrleans.sln -c Release -warnaserror -nologo -v q

status=0
dotnet test FlowOrleans.sln -c Release --no-build --nologo \
    --logger "trx;LogFileName=tests.trx" --results-directory "$results" \
    --blame-hang-timeout 5m || status=$?

# One plain summary line, counted from the runner's own result files.
passed=0 failed=0 skipped=0
for trx in $(find "$results" -name '*.trx'); do
    counters=$(grep -o '<Counters [^>]*>' "$trx" || true)
    get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
    passed=$((passed + $(get passed)))
    failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
    skipped=$((skipped + $(get notExecuted)))
done
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
