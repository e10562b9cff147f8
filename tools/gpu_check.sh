#!/usr/bin/env bash
# gpu_check.sh - Builds the GPU test (and benchmark) binaries on a machine without a GPU and
# packs them, with the shared libraries a bare Ubuntu 24.04 + CUDA 13 machine lacks, into one
# folder (out/gpu_bundle/, under 64 MiB) whose run.sh runs them all on the GPU machine.
#
#   bash tools/gpu_check.sh --bundle [--out DIR] [//target ...]   build the bundle
#   bash tools/gpu_check.sh --run [--out DIR]                     run the bundle here
#   bash out/gpu_bundle/run.sh [--logs DIR]                       on the GPU machine
#
# Targets: cc_test targets become tests (bin/tests/), cc_binary targets benchmarks (bin/bench/).
# Without targets: every cc_test under //tests/runtime/gpu and //tests/kernels/gpu, plus every
# cc_test or cc_binary under //tests, //tools, //kernels and //runtime tagged "gpu" or
# "gpu_bench".
#
# Libraries: what ldd resolves, minus glibc, libstdc++ and libgcc (newer on Ubuntu 24.04) and
# minus CUDA's own (libcuda, libcudart, libcublas*, libcudnn*, ...: the GPU machine has them in
# /usr/local/cuda/lib64, cuDNN in the folder run.sh names). A binary needing libLLVM (123 MB)
# is refused: keep the JIT out of GPU binaries (BUILDING.md).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=""
out="out/gpu_bundle"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) mode=bundle ;;
    --run) mode=run ;;
    --out) out="$2"; shift ;;
    --out=*) out="${1#--out=}" ;;
    //*) targets+=("$1") ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "gpu_check.sh: error: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$mode" ]; then
  echo "gpu_check.sh: error: say --bundle (build the bundle) or --run (run it here)" >&2
  exit 2
fi
if [ "$mode" = run ]; then
  exec bash "$out/run.sh"
fi

limit=$((64 * 1024 * 1024))

if [ ${#targets[@]} -eq 0 ]; then
  query="kind(cc_test, //tests/runtime/gpu/...)"
  [ -d tests/kernels/gpu ] && query="$query + kind(cc_test, //tests/kernels/gpu/...)"
  tagged=""
  for d in tests tools kernels runtime; do
    [ -d "$d" ] && tagged="${tagged:+$tagged + }//$d/..."
  done
  query="$query + attr(tags, '\\bgpu(_bench)?\\b', kind('cc_(test|binary)', $tagged))"
  # --keep_going: a package someone is editing right now must not hide the others.
  mapfile -t targets < <(bazel query --keep_going "$query" 2>/dev/null | sort -u)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "gpu_check.sh: error: no GPU test targets found" >&2
  exit 1
fi
echo "gpu_check.sh: building ${#targets[@]} target(s): ${targets[*]}"
bazel build "${targets[@]}"
bin_dir=$(bazel info bazel-bin 2>/dev/null)

rm -rf "$out"
# Binaries and libraries are stripped and packed into one gzip'd tar (libdnnl alone is 40 MB);
# run.sh unpacks it into a temporary folder on the GPU machine.
stage="$out/.stage"
mkdir -p "$stage/bin/tests" "$stage/bin/bench" "$stage/lib"

# glibc and the GCC runtime are newer on the GPU machine; CUDA libraries are there already.
skip_re='^(linux-vdso|ld-linux|libc\.so|libm\.so|libmvec|libpthread|libdl\.so|librt\.so|libresolv|libutil|libstdc\+\+|libgcc_s|libcuda\.|libcudart|libcublas|libcudnn|libnvrtc|libnvJitLink|libnvidia|libcufft|libcurand|libcusolver|libcusparse|libnccl|libcupti)'

declare -A copied=()
for target in "${targets[@]}"; do
  kind=$(bazel query --output=label_kind "$target" 2>/dev/null | awk '{print $1}')
  pkg="${target#//}"
  pkg="${pkg%%:*}"
  name="${target##*:}"
  [ "$name" = "$target" ] && name="${pkg##*/}"
  binary="$bin_dir/$pkg/$name"
  if [ ! -x "$binary" ]; then
    echo "gpu_check.sh: error: $target built no executable at $binary" >&2
    exit 1
  fi
  case "$kind" in
    cc_test) dest="$stage/bin/tests" ;;
    cc_binary) dest="$stage/bin/bench" ;;
    *) echo "gpu_check.sh: error: $target is a $kind, expected cc_test or cc_binary" >&2; exit 1 ;;
  esac
  if [ -e "$dest/$name" ]; then
    echo "gpu_check.sh: error: two targets named '$name'; bundle them separately" >&2
    exit 1
  fi
  cp "$binary" "$dest/$name"
  chmod u+w "$dest/$name"
  strip --strip-unneeded "$dest/$name" 2>/dev/null || true
  while read -r lib path; do
    case "$lib" in libLLVM*)
      echo "gpu_check.sh: error: $target links $lib ($path, 123 MB): it cannot travel in a 64 MiB" \
           "bundle; keep the LLVM JIT out of GPU binaries or link it statically" >&2
      exit 1 ;;
    esac
    if [[ "$lib" =~ $skip_re ]]; then continue; fi
    if [ "$path" = "not" ]; then
      echo "gpu_check.sh: error: $target needs $lib, which ldd cannot find here" >&2
      exit 1
    fi
    if [ -z "${copied[$lib]:-}" ]; then
      cp -L "$path" "$stage/lib/$lib"
      chmod u+w "$stage/lib/$lib"
      strip --strip-unneeded "$stage/lib/$lib" 2>/dev/null || true
      copied[$lib]="$path"
    fi
  done < <(ldd "$binary" | awk '/=>/ {print $1, $3}')
done

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# run.sh - Runs every test binary of this bundle (bin/tests/), then every benchmark
# (bin/bench/), with the bundle's libraries, CUDA's and cuDNN's on LD_LIBRARY_PATH. Prints one
# line per binary and a summary; exits non-zero when a binary fails. Logs go to --logs DIR
# (default: $OUT when set, else the bundle's logs/). A test binary gets WEIR_TEST_TIMEOUT
# seconds (180), a benchmark WEIR_BENCH_TIMEOUT (300); exit 124 means it ran out of time.
# WEIR_SANITIZE=1 adds a compute-sanitizer memcheck pass over the kernel tests (see below).
set -uo pipefail
bundle="$(cd "$(dirname "$0")" && pwd)"
logs="${OUT:-$bundle/logs}"
if [ "${1:-}" = "--logs" ] && [ -n "${2:-}" ]; then logs="$2"; fi
mkdir -p "$logs" 2>/dev/null || logs=$(mktemp -d)
# The binaries and libraries travel packed (payload.tar.gz); unpack them next to nothing else.
here=$(mktemp -d)
trap 'rm -rf "$here"' EXIT
tar -C "$here" -xzf "$bundle/payload.tar.gz" || { echo "run.sh: cannot unpack payload.tar.gz"; exit 1; }
cudnn=/opt/torch/.venv/lib/python3.12/site-packages/nvidia/cudnn/lib
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:$cudnn${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# conformance_test reads the external cases the bundle carries.
[ -d "$here/conformance" ] && export WEIR_CONFORMANCE_DIR="$here/conformance"
echo "bundle: $(cat "$bundle/MANIFEST" 2>/dev/null | head -1)"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 |
    sed 's/^/gpu: /'
else
  echo "gpu: nvidia-smi not found"
fi
bin_ok=0; bin_failed=0; cases_passed=0; cases_failed=0; cases_skipped=0
for bin in "$here"/bin/tests/*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  log="$logs/$name.log"
  start=$(date +%s.%N)
  # Device time is scarce (minutes per session): a hung binary must not take all of it.
  timeout "${WEIR_TEST_TIMEOUT:-180}" "$bin" > "$log" 2>&1
  rc=$?
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  skipped=$(grep -c "SKIPPED: no GPU" "$log")
  summary=$(grep -E "^(All tests passed|test cases:)" "$log" | tail -1)
  if line=$(grep -E "^All tests passed \(.* in [0-9]+ test case" "$log" | tail -1) && [ -n "$line" ]; then
    cases_passed=$((cases_passed + $(echo "$line" | sed -E 's/.* in ([0-9]+) test case.*/\1/')))
  elif line=$(grep -E "^test cases: " "$log" | tail -1) && [ -n "$line" ]; then
    p=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) passed.*/\1/p')
    f=$(echo "$line" | sed -nE 's/.*\| *([0-9]+) failed.*/\1/p')
    cases_passed=$((cases_passed + ${p:-0})); cases_failed=$((cases_failed + ${f:-0}))
  fi
  cases_skipped=$((cases_skipped + skipped))
  if [ $rc = 0 ]; then
    bin_ok=$((bin_ok + 1))
    note=""; [ "$skipped" -gt 0 ] && note=", $skipped skipped (no GPU)"
    echo "PASS $name (${secs}s): ${summary:-no Catch2 summary}$note"
  else
    bin_failed=$((bin_failed + 1))
    echo "FAIL $name (exit $rc, ${secs}s): ${summary:-no Catch2 summary}"
    tail -60 "$log" | sed 's/^/    /'
  fi
done
for bin in "$here"/bin/bench/*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  echo "== benchmark $name"
  timeout "${WEIR_BENCH_TIMEOUT:-300}" "$bin" 2>&1 | tee "$logs/$name.log"
  rc=${PIPESTATUS[0]}
  if [ $rc = 0 ]; then bin_ok=$((bin_ok + 1)); else
    bin_failed=$((bin_failed + 1)); echo "FAIL benchmark $name (exit $rc)"; fi
done
# WEIR_SANITIZE=1: the launcher-level kernel tests once more under compute-sanitizer's memcheck,
# which catches out-of-bounds and misaligned accesses that still give right-looking results;
# each gets WEIR_SANITIZE_TIMEOUT seconds (240). Off by default: it is slow, and device time is
# scarce.
if [ "${WEIR_SANITIZE:-0}" = 1 ]; then
  sanitizer=$(command -v compute-sanitizer || true)
  [ -z "$sanitizer" ] && [ -x /usr/local/cuda/bin/compute-sanitizer ] &&
    sanitizer=/usr/local/cuda/bin/compute-sanitizer
  if [ -z "$sanitizer" ]; then
    echo "memcheck: compute-sanitizer not found"
  else
    for name in gpu_kernels_test gpu_array_kernels_test gpu_chain_test gpu_dnn_test gpu_gemm_test; do
      bin="$here/bin/tests/$name"
      [ -x "$bin" ] || continue
      log="$logs/$name.memcheck.log"
      timeout "${WEIR_SANITIZE_TIMEOUT:-240}" "$sanitizer" --tool memcheck --error-exitcode 86 \
        "$bin" > "$log" 2>&1
      rc=$?
      errors=$(grep -E "ERROR SUMMARY: [0-9]+" "$log" | tail -1)
      if [ $rc = 0 ]; then
        bin_ok=$((bin_ok + 1)); echo "PASS memcheck $name: ${errors:-no summary}"
      else
        bin_failed=$((bin_failed + 1)); echo "FAIL memcheck $name (exit $rc): ${errors:-no summary}"
        tail -40 "$log" | sed 's/^/    /'
      fi
    done
  fi
fi
echo "summary: $bin_ok binaries passed, $bin_failed failed; test cases: $cases_passed passed," \
     "$cases_failed failed, $cases_skipped skipped (no GPU); logs in $logs"
[ $bin_failed = 0 ]
RUN
chmod +x "$out/run.sh"

# The external conformance cases (8 MB of small graphs) travel too: conformance_test runs them on
# the GPU there.
packed=(bin lib)
conformance="$(cd .. && pwd)/shared/conformance/tf"
if [ -d "$conformance" ]; then
  cp -r "$conformance" "$stage/conformance"
  packed+=(conformance)
fi
{
  echo "weir $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo '+dirty'), built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "targets: ${targets[*]}"
  (cd "$stage" && find bin lib -type f -printf '%s\t%p\n' | sort -k2)
  if [ -d "$stage/conformance" ]; then
    echo "conformance: $(find "$stage/conformance" -name graph.pb | wc -l) graphs"
  fi
} > "$out/MANIFEST"
n_tests=$(ls "$stage/bin/tests" | wc -l)
n_bench=$(ls "$stage/bin/bench" | wc -l)
unpacked=$(du -sb "$stage" | awk '{print $1}')
tar -C "$stage" -czf "$out/payload.tar.gz" "${packed[@]}"
rm -rf "$stage"

size=$(du -sb "$out" | awk '{print $1}')
if [ "$size" -ge "$limit" ]; then
  echo "gpu_check.sh: error: the bundle is $size bytes, over the 64 MiB limit ($limit); largest:" >&2
  sort -rn -k1 "$out/MANIFEST" 2>/dev/null | grep -P '^\d+\t' | head -10 >&2
  exit 1
fi
echo "gpu_check.sh: bundle $out: $n_tests test binaries, $n_bench benchmarks," \
     "${#copied[@]} libraries, $((unpacked / 1024 / 1024)) MiB unpacked," \
     "$((size / 1024 / 1024)) MiB of 64 packed (run: bash $out/run.sh)"
