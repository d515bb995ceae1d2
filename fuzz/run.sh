#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang and runs each for a bounded time.
#
#   fuzz/run.sh [SECONDS_PER_HARNESS] [BUILD_DIR]
#
# SECONDS_PER_HARNESS defaults to 30 (0: no time bound, with FUZZ_RUNS); BUILD_DIR to
# build-fuzz beside the sources. Each harness starts from a fresh copy of the generated
# seeds in BUILD_DIR/corpus/<harness>; crash files go to BUILD_DIR/crashes/<harness>/,
# logs to BUILD_DIR/logs/. Exits nonzero naming each harness that crashed and its file.
#
# Environment: FUZZ_JOBS harnesses at once (2), FUZZ_RUNS executions per harness (no
# bound), FUZZ_HARNESSES a space-separated subset, FUZZ_CXX the compiler (clang++-14),
# FUZZ_SANITIZERS the sanitizers beside libFuzzer (address,undefined, as in CI; "undefined"
# alone, without ASan, runs several times faster: for long runs, in a BUILD_DIR of its own;
# empty: none).
set -euo pipefail

seconds=${1:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$src/build-fuzz}
jobs=${FUZZ_JOBS:-2}
cxx=${FUZZ_CXX:-clang++-14}
sanitizers=${FUZZ_SANITIZERS-address,undefined}
all_harnesses="wire_codec dht_state http_request multipart json_check sova_reply admin_script node_state"
harnesses=${FUZZ_HARNESSES:-$all_harnesses}

# The dictionary each harness gets, if any.
dict_of() {
  case $1 in
    http_request) echo http ;;
    multipart) echo multipart ;;
    json_check | sova_reply | node_state) echo json ;;
    admin_script) echo admin ;;
  esac
}

# Whether $cxx can build and link a libFuzzer program (clang and its fuzzer runtime).
can_build_fuzzers() {
  command -v "$cxx" >/dev/null 2>&1 || return 1
  local dir
  dir=$(mktemp -d)
  echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' \
    >"$dir/probe.cpp"
  local ok=0
  "$cxx" -fsanitize=fuzzer${sanitizers:+,$sanitizers} "$dir/probe.cpp" -o "$dir/probe" \
    >/dev/null 2>&1 || ok=1
  rm -rf "$dir"
  return $ok
}

install_toolchain() {
  if can_build_fuzzers; then return; fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "fuzz: $cxx cannot build libFuzzer programs; as root run:" >&2
    echo "  apt-get update && apt-get install -y clang-14 libclang-rt-14-dev" >&2
    exit 1
  fi
  echo "fuzz: installing clang-14 and libclang-rt-14-dev"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends clang-14 libclang-rt-14-dev
  can_build_fuzzers || { echo "fuzz: $cxx still cannot build libFuzzer programs" >&2; exit 1; }
}

# Runs harness $1; its exit status is the fuzzer's.
run_one() {
  local h=$1 corpus=$build/corpus/$1 crashes=$build/crashes/$1 log=$build/logs/$1.log
  rm -rf "$corpus" "$crashes"
  mkdir -p "$corpus" "$crashes"
  cp -r "$build/seeds/$h/." "$corpus/"
  local args=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$crashes/")
  [ "$seconds" != 0 ] && args+=(-max_total_time="$seconds")
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  local dict
  dict=$(dict_of "$h")
  [ -n "$dict" ] && args+=(-dict="$src/fuzz/dict/$dict.dict")
  "$build/${h}_fuzz" "${args[@]}" "$corpus" >"$log" 2>&1
}

install_toolchain
cmake -S "$src/fuzz" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" \
  -DSOVA_FUZZ_SANITIZERS="$sanitizers"
cmake --build "$build" -j2
mkdir -p "$build/logs"

status_dir=$(mktemp -d)
trap 'rm -rf "$status_dir"' EXIT
for h in $harnesses; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "fuzz: running $h"
  (
    rc=0
    run_one "$h" || rc=$?
    echo "$rc" >"$status_dir/$h"
  ) &
done
wait

failed=0
for h in $harnesses; do
  rc=$(cat "$status_dir/$h" 2>/dev/null || echo missing)
  log=$build/logs/$h.log
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$rc" = 0 ]; then
    echo "fuzz: $h ok, ${runs:-?} executions"
    continue
  fi
  failed=1
  crash=$(ls -t "$build/crashes/$h"/* 2>/dev/null | head -1 || true)
  echo "fuzz: $h FAILED (exit $rc) after ${runs:-?} executions; input: ${crash:-none saved}; log: $log" >&2
  grep -m1 -E "ERROR: |property failed|runtime error" "$log" >&2 || tail -5 "$log" >&2
done
exit $failed
