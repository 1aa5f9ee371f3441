#!/usr/bin/env bash
# Runs the test command N times in a row, each on a fresh clone of one commit,
# while `yes` keeps one core busy (issue 19 item 8: failover and timing under
# load). Stops at the first failure and keeps that clone and log for study.
#   scripts/repeat-ci.sh [runs=10] [commit=HEAD]
# Progress: one line per run in $OUT/progress (OUT defaults to /tmp/repeat-ci).
set -uo pipefail
runs=${1:-10}
repo=$(cd "$(dirname "$0")/.." && pwd)
commit=$(git -C "$repo" rev-parse "${2:-HEAD}")
out=${OUT:-/tmp/repeat-ci}
mkdir -p "$out"
yes > /dev/null & busy=$!
trap 'kill $busy 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do
  clone="$out/clone-$i"
  rm -rf "$clone"
  git clone -q "$repo" "$clone" && git -C "$clone" checkout -q "$commit"
  # CI puts ../shared beside the clone.
  [ -e "$out/shared" ] || ln -s "$repo/../shared" "$out/shared"
  start=$(date +%s)
  (cd "$clone" && bash .ci/run > "$out/run-$i.log" 2>&1); rc=$?
  echo "run $i ${commit:0:7} rc=$rc $(( $(date +%s) - start ))s $(grep '^Tests:' "$out/run-$i.log")" >> "$out/progress"
  [ $rc -ne 0 ] && exit $rc
  rm -rf "$clone"
done
