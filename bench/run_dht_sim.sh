#!/usr/bin/env bash
# Builds the DHT simulation benchmark (optimised, no sanitizers) and runs it.
# Extra arguments go to the benchmark, e.g. --nodes 1000 --lookups 500.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSOVA_TESTS=OFF >/dev/null
cmake --build build-bench -j"$(nproc)" --target bench_dht_sim
exec build-bench/bench_dht_sim "$@"
