#!/usr/bin/env bash
# The README's test command: installs dependencies, builds with -Wall -Wextra,
# AddressSanitizer and UBSan, and runs the whole suite under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
build=${SOVA_TEST_BUILD_DIR:-build-test}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Sanitize -DSOVA_SANITIZE=ON -DSOVA_WERROR=ON
cmake --build "$build" -j"$(nproc)"
cd "$build"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --output-on-failure --timeout 600 "$@"
