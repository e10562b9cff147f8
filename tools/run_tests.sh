#!/usr/bin/env bash
# run_tests.sh - Installs what is missing, builds everything and runs every test, then prints
# one line "N passed, N failed" counting Catch2 test cases (a test binary that fails to build
# or crashes counts as one failure).
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1
conformance="$(cd .. && pwd)/shared/conformance/tf"
log=$(mktemp)
bazel test //... --test_output=errors --test_env=WEIR_CONFORMANCE_DIR="$conformance" "$@" 2>&1 | tee "$log"
bazel_rc=${PIPESTATUS[0]}
testlogs=$(bazel info bazel-testlogs 2>/dev/null)
passed=0
failed=0
while read -r target status; do
  path="$testlogs/${target#//}"
  path="${path/://}/test.log"
  counted=0
  if [ -f "$path" ] && [ "$status" != "NO" ]; then
    if line=$(grep -E "^All tests passed \(.* in [0-9]+ test case" "$path" | tail -1) && [ -n "$line" ]; then
      n=$(echo "$line" | sed -E 's/.* in ([0-9]+) test case.*/\1/')
      passed=$((passed + n)); counted=1
    elif line=$(grep -E "^test cases: " "$path" | tail -1) && [ -n "$line" ]; then
      p=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) passed.*/\1/p')
      f=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) failed.*/\1/p')
      passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); counted=1
      if [ "${f:-0}" = 0 ] && [ "$status" != "PASSED" ]; then failed=$((failed + 1)); fi
    fi
  fi
  if [ $counted = 0 ]; then
    if [ "$status" = "PASSED" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  fi
done < <(grep -E "^//[^ ]+ +(\(cached\) )?(PASSED|FAILED|TIMEOUT|NO STATUS|FLAKY)" "$log" |
         sed -E 's/\(cached\) //' | awk '{print $1, $2}')
# Targets that did not build appear as "FAILED TO BUILD" above; a broken build with no test
# lines at all counts as one failure.
if [ "$bazel_rc" != 0 ] && [ $failed = 0 ]; then failed=1; fi
# GPU test cases that found no GPU (each logs the warning "SKIPPED: no GPU" and passes).
gpu_skipped=0
while read -r target; do
  path="$testlogs/${target#//}"
  path="${path/://}/test.log"
  if [ -f "$path" ]; then gpu_skipped=$((gpu_skipped + $(grep -c "SKIPPED: no GPU" "$path"))); fi
done < <(grep -E "^//[^ ]+ +(\(cached\) )?(PASSED|FAILED|TIMEOUT|FLAKY)" "$log" | awk '{print $1}' | sort -u)
# Catch2 counts them as passed; they are reported apart and left out of the passed count.
if [ "$gpu_skipped" -gt 0 ]; then
  echo "GPU tests skipped (no GPU): $gpu_skipped"
  passed=$((passed - gpu_skipped))
fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$bazel_rc" = 0 ]
