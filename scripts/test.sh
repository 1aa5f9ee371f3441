#!/usr/bin/env bash
# Runs every test of FlowOrleans: builds the solution warning-free, then the whole test suite, a benchmark smoke run and
# a fuzzing smoke run.
# It installs and starts what the tests need by itself, so it works on a fresh Debian machine with the .NET 10 SDK.
set -euo pipefail
cd "$(dirname "$0")/.."

results="$(pwd)/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"

# The durability tests start a private PostgreSQL server of their own (Tests/Cluster/PostgresServer.cs); they need
# Debian's server binaries, and as root the postgres user the package creates.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "Installing PostgreSQL (apt-get install postgresql) for the durability tests..."
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
fi

# The status page test opens the Silo's page in headless Chromium (Tests/Http/HeadlessChromium.cs); it fails, never
# skips, without it.
if ! command -v chromium >/dev/null 2>&1; then
    echo "Installing Chromium (apt-get install chromium) for the status page test..."
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# The chaos test (Tests/Reliability/Chaos) puts each silo in a network namespace of its own with iproute2's ip; it
# needs root, and fails, never skips, without them.
if ! command -v ip >/dev/null 2>&1; then
    echo "Installing iproute2 (apt-get install iproute2) for the chaos test..."
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq iproute2 >/dev/null
fi

dotnet build FlowOrleans.sln -c Release -warnaserror -nologo -v q

status=0
dotnet test FlowOrleans.sln -c Release --no-build --nologo \
    --logger "trx;LogFileName=tests.trx" --results-directory "$results" \
    --blame-hang-timeout 5m || status=$?

# Benchmarks smoke run: keeps every system and scenario working (it asserts no speed; a failed or hung run fails).
bench=0
dotnet run -c Release --no-build --project Benchmarks -- --quick --json "$results/bench-quick.json" \
    > "$results/bench-quick.txt" 2>&1 || bench=$?
if [ "$bench" -eq 0 ]; then
    echo "Benchmarks --quick: every run completed (results in $results/bench-quick.txt)"
else
    tail -n 40 "$results/bench-quick.txt"
    echo "Benchmarks --quick: FAILED with exit code $bench"
    status=1
fi

# Fuzzing smoke run: every fuzz target (fuzz/README.md) for ~11 s over its seeds and committed corpus, about a minute in
# all; it installs clang and libFuzzer itself when missing. A crash fails it and leaves the input in artifacts/fuzz/crashes/.
fuzz=0
bash fuzz/fuzz.sh --smoke > "$results/fuzz-smoke.txt" 2>&1 || fuzz=$?
if [ "$fuzz" -eq 0 ]; then
    grep '^fuzz ' "$results/fuzz-smoke.txt" || true
    echo "Fuzzing smoke run: every target ran clean (log in $results/fuzz-smoke.txt)"
else
    tail -n 60 "$results/fuzz-smoke.txt"
    echo "Fuzzing smoke run: FAILED with exit code $fuzz"
    status=1
fi

# One plain summary line, counted from the runner's own result files (the benchmark and fuzzing smoke runs count as one
# test each).
passed=0 failed=0 skipped=0
for trx in $(find "$results" -name '*.trx'); do
    counters=$(grep -o '<Counters [^>]*>' "$trx" || true)
    get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
    passed=$((passed + $(get passed)))
    failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
    skipped=$((skipped + $(get notExecuted)))
done
if [ "$bench" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
if [ "$fuzz" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "Tests: $passed passed, $failed failed, $skipped skipped"
exit $status
