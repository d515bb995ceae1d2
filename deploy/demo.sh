#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds sova-dc, and runs
# `sova-dc demo`: three nodes on 127.0.0.2-127.0.0.4, a TTS (espeak-ng) and an ASR
# (pocketsphinx) reference backend announced by different nodes, real speech synthesised
# and recognised through the network, everything stopped at the end (also on Ctrl-C).
# Extra arguments go to `sova-dc demo` (see `build/sova-dc demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSOVA_TESTS=OFF -DSOVA_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" --target sova-dc
exec build/sova-dc demo "$@"
