#!/usr/bin/env bash
# Instructions per proxied request: a count that does not move with the machine's load,
# unlike the proxy benchmark's req/s. Runs one sova-dc node under callgrind (all threads,
# user space only) in front of a sova_test_backend (--concurrent), loads it with wrk for
# WARMUP, zeroes the counters, loads it for DURATION and divides the instructions counted
# by the requests wrk completed. Same sets as bench/run_proxy_bench.sh:
#   tiny  POST /synthesize of a short text, a ~300-byte reply;
#   tts   the same, answered with a 276 KB reply (4.7 s of WAV in base64);
#   asr   POST /asr of a 1 MiB multipart upload.
#
#   bash bench/run_proxy_instructions.sh [SOVA_DC_BINARY]   # default build-bench/sova-dc
#
# Environment: SETS ("tiny tts asr"), WARMUP (5, seconds), DURATION (10, seconds),
# CONNECTIONS (4), BACKEND (build-bench/sova_test_backend). Needs valgrind and wrk (installed
# with apt-get when missing); the binaries must exist (bench/run_proxy_bench.sh builds them).
# To compare two versions, run it once with each binary.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh  # apt_install, free_port, stop_pid, write_proxy_bodies, wrk_post_lua

log() { echo "proxy-instructions: $*" >&2; }

NODE_BIN=${1:-build-bench/sova-dc}
BACKEND_BIN=${BACKEND:-build-bench/sova_test_backend}
SETS=${SETS:-tiny tts asr}
WARMUP=${WARMUP:-5}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-4}

for bin in "$NODE_BIN" "$BACKEND_BIN"; do
  [ -x "$bin" ] || { log "$bin is not built (bash bench/run_proxy_bench.sh builds it)"; exit 1; }
done
missing=()
command -v valgrind >/dev/null || missing+=(valgrind)
command -v wrk >/dev/null || missing+=(wrk)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  rm -rf "$WORK"
}
trap cleanup EXIT

write_proxy_bodies "$WORK" 1048576

# The number of requests a wrk run completed.
load() {
  wrk -t1 -c"$CONNECTIONS" -d"$1"s -s "$WORK/post.lua" "$2" | awk '/ requests in / { print $1 }'
}

for set in $SETS; do
  case $set in
    tiny | tts) body=$WORK/body-tts.json type=application/json path=/synthesize ;;
    asr) body=$WORK/body-asr.form type="multipart/form-data; boundary=$PROXY_BOUNDARY" path=/asr ;;
    *) log "unknown set '$set' (tiny, tts, asr)"; exit 2 ;;
  esac
  backend_args=()
  [ "$set" = tts ] && backend_args=(--audio-bytes 207360)
  wrk_post_lua "$body" "$type" >"$WORK/post.lua"
  backend_port=$(free_port tcp)
  "$BACKEND_BIN" --listen "127.0.0.1:$backend_port" --concurrent "${backend_args[@]}" \
    >"$WORK/backend.log" 2>&1 &
  backend_pid=$!
  PIDS+=("$backend_pid")
  http_port=$(free_port tcp)
  valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.%p" \
    "$NODE_BIN" node --bind 127.0.0.1 --port "$(free_port udp)" --http-port "$http_port" \
    --services "tts/cpu/127.0.0.1:$backend_port,asr/cpu/127.0.0.1:$backend_port" \
    --announce backends --allow-loopback --admin-port 0 --log-level warn \
    >"$WORK/node.log" 2>&1 &
  node_pid=$!
  PIDS+=("$node_pid")
  url="http://127.0.0.1:$http_port$path"
  for _ in $(seq 240); do  # valgrind starts slowly
    code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST -H "Content-Type: $type" \
      --data-binary "@$body" "$url" 2>/dev/null || true)
    [ "$code" = 200 ] && break
    sleep 0.5
  done
  [ "$code" = 200 ] || { log "[$set] the node did not serve:"; tail -n 5 "$WORK/node.log" >&2; exit 1; }
  load "$WARMUP" "$url" >/dev/null
  callgrind_control -z "$node_pid" >/dev/null
  requests=$(load "$DURATION" "$url")
  rm -f "$WORK"/callgrind.*
  callgrind_control -d "$node_pid" >/dev/null
  # One file per dump (thread parts are summed: --separate-threads is off by default).
  instructions=$(awk '/^summary:/ { s += $2 } END { print s + 0 }' "$WORK"/callgrind."$node_pid"*)
  awk -v set="$set" -v ir="$instructions" -v n="$requests" 'BEGIN {
    printf "%-5s %9d requests  %14d instructions  %10.0f per request\n", set, n, ir, n ? ir / n : 0 }'
  stop_pid "$node_pid"
  stop_pid "$backend_pid"
done
