#!/usr/bin/env bash
# tsan.sh - Runs the concurrency-heavy runtime tests under ThreadSanitizer (by hand, not in CI).
#
#   bash tools/tsan.sh [bazel test targets...]
#
# Builds in its own output base (out/tsan-bazel, so the normal build's cache is untouched) with
# -fsanitize=thread and runs the given targets (default: the session, executor, multi-device,
# asynchronous-kernel, rendezvous and loop tests). oneDNN and the libgomp threads it runs on
# are not instrumented, so TSan cannot see their synchronization; tools/tsan_suppressions.txt
# silences reports whose stacks are inside those libraries. Everything of Weir's own is checked.
set -uo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(//tests/runtime:session_test //tests/runtime:multi_device_test
           //tests/runtime:async_kernel_test //tests/runtime:rendezvous_test
           //tests/runtime:loop_test //tests/runtime:control_flow_test
           //tests/runtime:inplace_test)
fi
exec nice bazel --output_base="$PWD/out/tsan-bazel" test \
  --copt=-fsanitize=thread --linkopt=-fsanitize=thread --copt=-g --copt=-O1 \
  --test_env=TSAN_OPTIONS="suppressions=$PWD/tools/tsan_suppressions.txt halt_on_error=0 second_deadlock_stack=1" \
  --test_output=errors --test_timeout=1800 "${targets[@]}"
