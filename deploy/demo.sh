#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds sova-dc, starts a
# three-node network on 127.0.0.2-127.0.0.4, announces two service records through
# one node, finds them through another, prints the results, and stops everything
# it started (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DSOVA_TESTS=OFF -DSOVA_BENCH=OFF >/dev/null
cmake --build build -j"$(nproc)" --target sova-dc
bin=build/sova-dc

port=${SOVA_DEMO_PORT:-5678}
logs=$(mktemp -d)
pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "demo: stopped ${#pids[@]} node(s); logs were in $logs"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start_node() {  # start_node INDEX [NEIGHBOUR]
  local host="127.0.0.$(( $1 + 1 ))"
  local args=(node --bind "$host" --port "$port")
  [ -n "${2:-}" ] && args+=(--neighbours "$2")
  "$bin" "${args[@]}" 2>"$logs/node$1.log" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q -E "bootstrap done|no --neighbours" "$logs/node$1.log" && { echo "demo: node $1 up on $host:$port"; return; }
    grep -q -E " error " "$logs/node$1.log" && break
    sleep 0.1
  done
  echo "demo: node $1 did not start:"; cat "$logs/node$1.log"; exit 1
}

start_node 1
start_node 2 "127.0.0.2:$port"
start_node 3 "127.0.0.3:$port"

echo
echo "demo: announcing two backends through node 1 (127.0.0.2)"
"$bin" dht put asr/cpu asr/cpu/192.0.2.10:8888 --bind 127.0.0.5 --neighbours "127.0.0.2:$port"
"$bin" dht put tts/gpu tts/gpu/192.0.2.11:8899 --bind 127.0.0.5 --neighbours "127.0.0.2:$port"
echo
echo "demo: finding them through node 3 (127.0.0.4)"
for key in asr/cpu tts/gpu; do
  echo "  $key ->"
  "$bin" dht get "$key" --bind 127.0.0.6 --neighbours "127.0.0.4:$port" --rpc-timeout 1 | sed 's/^/      /'
done
echo
echo "demo: the SOVA ASR/TTS reference backends arrive with the next release; this shows the DHT they are found through."
