#!/usr/bin/env bash
# The proxy benchmark: what a sova-dc node adds in front of a SOVA backend, next to nginx.
# Builds the node and the test backend (optimised, no sanitizers) and measures sets of
# requests, each against a fresh sova_test_backend (fixed replies, --concurrent: not one
# job at a time as a real SOVA server):
#   tiny  POST /synthesize of a short text: a ~300-byte reply;
#   tts   the same request answered as large as a real SOVA TTS answers it: a 276 KB JSON
#         reply holding 4.7 s of WAV in base64 (the backend's --audio-bytes 207360);
#   asr   POST /asr of a 1 MiB multipart upload (one audio_blob file): a small reply.
# Each set is measured with wrk, all on loopback:
#   (a) the backend directly,
#   (b) through one sova-dc node (--services tts/cpu/<backend>,asr/cpu/<backend>, with
#       --announce NODE_ANNOUNCE: "backends" by default, the straight path a request takes
#       to a backend; "node" puts the node's owner queue and a reservation in front of each
#       request, with the backend given NODE_CAPACITY jobs at once (`*N`; CONNECTIONS by
#       default, since this backend is concurrent, unlike a real SOVA server's one worker)),
#   (c) through nginx as a keep-alive reverse proxy (worker_processes 1: the node's HTTP
#       side runs one io thread by default, so both proxies get one core's worth; request
#       bodies and replies held in memory, not in temp files),
#   (d) through bench_http_proxy_floor: our http::server and http::client alone, no
#       actors and no reply check (what the node's HTTP layers cost, apart from the rest).
# Every setup is warmed up, then measured with the same wrk settings, one at a time (the
# others are not running). Prints per set req/s, p50 and p99 per setup, the latency each
# proxy adds to the direct one, the node/nginx throughput ratio and the node's resident
# memory idle and at its peak.
#
# Environment: SETS ("tiny tts asr"), DURATION (10s), CONNECTIONS (16), THREADS (2, wrk
# threads), WARMUP (2s), BACKEND_THREADS (1, io threads of the backend), BUILD (1; 0 uses
# the existing binaries), SOVA_DC (the sova-dc binary to measure; default
# build-bench/sova-dc), NODE_ANNOUNCE (backends), NODE_CAPACITY (CONNECTIONS; node only).
# wrk and nginx-light are installed with apt-get when missing; without nginx, row (c) is
# skipped. A node that does not serve (e.g. it does not know the flags) makes row (b)
# "unavailable"; the script goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh  # as_root, apt_install, free_port, stop_pid, ms, write_proxy_bodies, wrk_post_lua

SETS=${SETS:-tiny tts asr}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
BACKEND_THREADS=${BACKEND_THREADS:-1}
BUILD=${BUILD:-1}
NODE_ANNOUNCE=${NODE_ANNOUNCE:-backends}
NODE_CAPACITY=${NODE_CAPACITY:-}
CAPACITY=""  # the `*N` after each --services entry
if [ "$NODE_ANNOUNCE" = node ]; then CAPACITY="*${NODE_CAPACITY:-$CONNECTIONS}"; fi
BUILD_DIR=build-bench
AUDIO_BYTES=207360  # 4.7 s of 16-bit mono at 22,050 Hz: 276 KB once in base64 and JSON
UPLOAD_BYTES=1048576

log() { echo "proxy-bench: $*" >&2; }

for set in $SETS; do
  case $set in tiny | tts | asr) ;; *) log "unknown set '$set' (tiny, tts, asr)"; exit 2 ;; esac
done

# --- tools ------------------------------------------------------------------------------

find_nginx() { command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  [ -n "$(find_nginx)" ] || missing+=(nginx-light)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

if [ "$BUILD" != 0 ]; then
  bash deploy/install-deps.sh >&2
fi
install_tools
command -v wrk >/dev/null || { log "wrk is required and could not be installed"; exit 1; }
command -v curl >/dev/null || { log "curl is required and could not be installed"; exit 1; }
NGINX=$(find_nginx)

NODE_BUILT=1
if [ "$BUILD" != 0 ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSOVA_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target sova_test_backend bench_http_proxy_floor >&2
  if ! cmake --build "$BUILD_DIR" -j"$(nproc)" --target sova-dc >&2; then
    log "sova-dc did not build: the node row will be unavailable"
    NODE_BUILT=0
  fi
fi
BACKEND_BIN=$BUILD_DIR/sova_test_backend
NODE_BIN=${SOVA_DC:-$BUILD_DIR/sova-dc}  # SOVA_DC: another sova-dc binary
FLOOR_BIN=$BUILD_DIR/bench_http_proxy_floor
[ -x "$BACKEND_BIN" ] || { log "$BACKEND_BIN is missing"; exit 1; }
[ -x "$NODE_BIN" ] || NODE_BUILT=0

start_work sova-proxy-bench  # WORK, PIDS; everything stopped and removed on exit
chmod 755 "$WORK"  # nginx workers (another user when started as root) use temp dirs in it

# --- the sets' requests ------------------------------------------------------------------------

write_proxy_bodies "$WORK" "$UPLOAD_BYTES"

# Sets SET's request: BODY_FILE, CONTENT_TYPE, the paths on the node and on the backend
# (nginx and the floor forward the backend's), the backend's options and a description.
choose_set() {
  SET=$1
  case $SET in
    tiny | tts)
      BODY_FILE=$WORK/body-tts.json CONTENT_TYPE=application/json
      NODE_PATH=/synthesize BACKEND_PATH=/synthesize/
      ;;
    asr)
      BODY_FILE=$WORK/body-asr.form CONTENT_TYPE="multipart/form-data; boundary=$PROXY_BOUNDARY"
      NODE_PATH=/asr BACKEND_PATH=/asr
      ;;
  esac
  BACKEND_ARGS=()
  case $SET in
    tiny) ABOUT="POST /synthesize $(cat "$BODY_FILE") (tiny reply)" ;;
    tts)
      BACKEND_ARGS=(--audio-bytes "$AUDIO_BYTES")
      ABOUT="POST /synthesize $(cat "$BODY_FILE"), a realistic reply (base64 WAV of $AUDIO_BYTES bytes)"
      ;;
    asr) ABOUT="POST /asr, a multipart form with one $UPLOAD_BYTES-byte audio_blob file" ;;
  esac
  {
    wrk_result_hook
    wrk_post_lua "$BODY_FILE" "$CONTENT_TYPE"
    echo "done = print_result"
  } >"$WORK/post.lua"
}

# POSTs the set's body; prints the HTTP status (000 when nothing answered).
post_status() {
  curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST -H "Content-Type: $CONTENT_TYPE" \
    --data-binary "@$BODY_FILE" "$1" 2>/dev/null || true
}

# Waits up to $2 seconds until POST $1 answers 200, while process $3 lives.
wait_serving() {
  local url=$1 pid=$3 deadline=$((SECONDS + $2))
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(post_status "$url")" = 200 ] && return 0
    sleep 0.25
  done
  return 1
}

# Resident memory of a process in MB, from /proc/PID/status: $2 is VmRSS or VmHWM.
mem_mb() {
  local v
  v=$(awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || true)
  echo "${v:--}"
}

# Sum of a field over the nginx master and its workers.
nginx_mem() {
  local pids total=0 v p
  pids="$1 $(cat "/proc/$1/task/$1/children" 2>/dev/null || ps -o pid= --ppid "$1" 2>/dev/null || true)"
  for p in $pids; do
    v=$(mem_mb "$p" "$2")
    [ "$v" = - ] || total=$(awk -v a="$total" -v b="$v" 'BEGIN { printf "%.1f", a + b }')
  done
  echo "$total"
}

# Warms up, then measures; prints "rps p50_us p99_us non2xx socket_errors".
measure() {
  local url=$1 name=$2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$WORK/post.lua" "$url" >/dev/null 2>&1 || true
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" "$url" \
    >"$WORK/wrk-$SET-$name.txt" 2>&1 || true
  awk '$1 == "RESULT" { print $2, $3, $4, $5, $6; found = 1 } END { if (!found) exit 1 }' \
    "$WORK/wrk-$SET-$name.txt"
}

declare -A RPS P50 P99 NON2XX SOCKERR AVAIL WHY IDLE PEAK
record() {  # name, then measure's output
  local name=$1
  shift
  if [ $# -eq 5 ]; then
    AVAIL[$name]=1 RPS[$name]=$1 P50[$name]=$2 P99[$name]=$3 NON2XX[$name]=$4 SOCKERR[$name]=$5
  else
    AVAIL[$name]=0 WHY[$name]="wrk gave no result (see its output above)"
    cat "$WORK/wrk-$SET-$name.txt" >&2 || true
  fi
}

# --- the setups -------------------------------------------------------------------------------

# Waits up to $4 seconds until process $2 answers POST $3 with 200, then measures it as
# setup $1, reading its memory with $5 (mem_mb, or nginx_mem for master and workers)
# before and after. Fails when it did not serve.
serve_and_measure() {
  local name=$1 pid=$2 url=$3 wait=$4 mem=$5
  wait_serving "$url" "$wait" "$pid" || return 1
  IDLE[$name]=$($mem "$pid" VmRSS)
  # shellcheck disable=SC2046
  record "$name" $(measure "$url" "$name" || true)
  PEAK[$name]=$($mem "$pid" VmHWM)
}

# (a): starts the set's backend (BACKEND_PID, BACKEND_PORT) and measures it directly.
run_direct() {
  "$BACKEND_BIN" --listen 127.0.0.1:0 --name bench --concurrent --threads "$BACKEND_THREADS" \
    "${BACKEND_ARGS[@]}" >"$WORK/backend-$SET.out" 2>"$WORK/backend-$SET.err" &
  BACKEND_PID=$!
  PIDS+=("$BACKEND_PID")
  BACKEND_PORT=
  for _ in $(seq 100); do
    BACKEND_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/backend-$SET.out")
    [ -n "$BACKEND_PORT" ] && break
    kill -0 "$BACKEND_PID" 2>/dev/null || break
    sleep 0.05
  done
  [ -n "$BACKEND_PORT" ] || { log "the backend did not start:"; cat "$WORK/backend-$SET.err" >&2; exit 1; }
  log "[$SET] (a) backend directly on 127.0.0.1:$BACKEND_PORT"
  # shellcheck disable=SC2046
  record direct $(measure "http://127.0.0.1:$BACKEND_PORT$BACKEND_PATH" direct || true)
}

run_node() {
  AVAIL[node]=0 IDLE[node]=- PEAK[node]=-
  if [ "$NODE_BUILT" != 1 ]; then WHY[node]="sova-dc is not built"; return; fi
  local udp_port http_port pid url
  udp_port=$(free_port udp)
  http_port=$(free_port tcp)
  url="http://127.0.0.1:$http_port$NODE_PATH"
  log "[$SET] (b) node: udp $udp_port, http $http_port; waiting up to 30 s for POST $NODE_PATH to answer 200"
  "$NODE_BIN" node --bind 127.0.0.1 --port "$udp_port" --http-port "$http_port" \
    --services "tts/cpu/127.0.0.1:$BACKEND_PORT$CAPACITY,asr/cpu/127.0.0.1:$BACKEND_PORT$CAPACITY" \
    --announce "$NODE_ANNOUNCE" --allow-loopback --admin-port 0 --log-level warn \
    >"$WORK/node-$SET.out" 2>"$WORK/node-$SET.err" &
  pid=$!
  PIDS+=("$pid")
  if serve_and_measure node "$pid" "$url" 30 mem_mb; then
    kill -0 "$pid" 2>/dev/null || { AVAIL[node]=0; WHY[node]="the node died under load"; }
  elif kill -0 "$pid" 2>/dev/null; then
    WHY[node]="the node did not answer 200 on $NODE_PATH within 30 s (last: $(post_status "$url"))"
  else
    WHY[node]="the node exited: $(tail -n 3 "$WORK/node-$SET.err" "$WORK/node-$SET.out" 2>/dev/null | grep -v '^==>' | grep . | tail -n 1)"
  fi
  stop_pid "$pid"  # before (c): it must not compete for the cores
}

run_nginx() {
  AVAIL[nginx]=0 IDLE[nginx]=- PEAK[nginx]=-
  if [ -z "$NGINX" ]; then
    WHY[nginx]="nginx is not installed and could not be installed (apt-get failed)"
    return
  fi
  local port pid temp_paths="" t
  port=$(free_port tcp)
  for t in client_body proxy fastcgi uwsgi scgi; do
    temp_paths+="  ${t}_temp_path $WORK/nginx-$t;"$'\n'
  done
  write_nginx_conf() {
    cat >"$WORK/nginx.conf" <<EOF
# Written by bench/run_proxy_bench.sh. One worker: the node's HTTP side uses one io thread.
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  # Held in memory, as the node holds them: the 1 MiB uploads and the 276 KB replies
  # (by default nginx spills bodies over 16 KB and replies over 32 KB to temp files).
  client_max_body_size 32m;
  client_body_buffer_size 2m;
  proxy_buffer_size 64k;
  proxy_buffers 8 64k;
  proxy_busy_buffers_size 128k;
$1
  upstream sova_backend {
    server 127.0.0.1:$BACKEND_PORT;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$port;
    location / {
      proxy_pass http://sova_backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  }
  write_nginx_conf "$temp_paths"
  # A build without some of the modules does not know their temp path directives.
  if ! "$NGINX" -t -q -p "$WORK/" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" 2>/dev/null; then
    write_nginx_conf "  client_body_temp_path $WORK/nginx-client_body;
  proxy_temp_path $WORK/nginx-proxy;"
  fi
  log "[$SET] (c) nginx on 127.0.0.1:$port (worker_processes 1, upstream keepalive 32)"
  "$NGINX" -p "$WORK/" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" -g 'daemon off;' \
    >"$WORK/nginx.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! serve_and_measure nginx "$pid" "http://127.0.0.1:$port$BACKEND_PATH" 10 nginx_mem; then
    WHY[nginx]="nginx did not serve: $(tail -n 2 "$WORK/nginx-error.log" "$WORK/nginx.out" 2>/dev/null | grep -v '^==>' | grep . | tail -n 1)"
  fi
  stop_pid "$pid"
}

run_floor() {
  AVAIL[floor]=0 IDLE[floor]=- PEAK[floor]=-
  if [ ! -x "$FLOOR_BIN" ]; then WHY[floor]="$FLOOR_BIN is not built"; return; fi
  local port pid
  port=$(free_port tcp)
  log "[$SET] (d) http layers only on 127.0.0.1:$port"
  "$FLOOR_BIN" "$port" "$BACKEND_PORT" >"$WORK/floor-$SET.out" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  if ! serve_and_measure floor "$pid" "http://127.0.0.1:$port$NODE_PATH" 10 mem_mb; then
    WHY[floor]="it did not serve: $(tail -n 1 "$WORK/floor-$SET.out")"
  fi
  stop_pid "$pid"
}

# --- the tables --------------------------------------------------------------------------------

added() {  # setup, P50|P99
  local -n arr=$2
  if [ "${AVAIL[$1]}" = 1 ] && [ "${AVAIL[direct]}" = 1 ]; then
    awk -v a="${arr[$1]}" -v d="${arr[direct]}" 'BEGIN { printf "%+.2f", (a - d) / 1000 }'
  else
    echo -
  fi
}

row() { printf "%-22s %10s %9s %9s %10s %10s %10s %10s %8s\n" "$@"; }

print_set() {
  local name label idle peak plus50 plus99
  echo
  echo "[$SET] $ABOUT"
  row setup "req/s" "p50 ms" "p99 ms" "+p50 ms" "+p99 ms" "RSS idle" "RSS peak" "errors"
  for name in direct node nginx floor; do
    case $name in
      direct) label="(a) backend directly" ;;
      node) label="(b) sova-dc node" ;;
      nginx) label="(c) nginx" ;;
      floor) label="(d) http layers only" ;;
    esac
    idle=${IDLE[$name]:--} peak=${PEAK[$name]:--}
    if [ "${AVAIL[$name]}" = 1 ]; then
      [ "$idle" = - ] || idle="$idle MB"
      [ "$peak" = - ] || peak="$peak MB"
      plus50=- plus99=-
      if [ $name != direct ]; then plus50=$(added $name P50) plus99=$(added $name P99); fi
      row "$label" "${RPS[$name]}" "$(ms "${P50[$name]}")" "$(ms "${P99[$name]}")" \
        "$plus50" "$plus99" "$idle" "$peak" "$((NON2XX[$name] + SOCKERR[$name]))"
    else
      printf "%-22s unavailable: %s\n" "$label" "${WHY[$name]}"
    fi
  done
  if [ "${AVAIL[node]}" = 1 ] && [ "${AVAIL[nginx]}" = 1 ]; then
    RATIO[$SET]=$(awk -v n="${RPS[node]}" -v x="${RPS[nginx]}" 'BEGIN { printf "%.2f", (x > 0 ? n / x : 0) }')
  else
    RATIO[$SET]="-"
  fi
  echo "throughput node/nginx: ${RATIO[$SET]}"
  if [ "${AVAIL[floor]}" = 1 ] && [ "${AVAIL[nginx]}" = 1 ]; then
    awk -v f="${RPS[floor]}" -v x="${RPS[nginx]}" -v n="${RPS[node]:-0}" -v ok="${AVAIL[node]}" 'BEGIN {
      printf "throughput http layers only/nginx: %.2f", (x > 0 ? f / x : 0)
      if (ok == 1 && f > 0) printf "; node/http layers only: %.2f", n / f
      printf "\n" }'
  fi
}

# --- the run ------------------------------------------------------------------------------------

log "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A RATIO
OUT=$WORK/tables.txt
for set in $SETS; do
  choose_set "$set"
  AVAIL=() WHY=() IDLE=() PEAK=()
  run_direct
  run_node
  run_nginx
  run_floor
  stop_pid "$BACKEND_PID"
  print_set >>"$OUT"
done

echo
echo "Proxy benchmark: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after ${WARMUP} warm-up), all on" \
  "127.0.0.1; $(nproc) cores, shared by wrk, the proxy and the backend ($BACKEND_THREADS io thread(s))."
echo "nginx: worker_processes 1, upstream keepalive 32; sova-dc: default HTTP io threads (1)."
cat "$OUT"
echo
summary="node/nginx throughput:"
for set in $SETS; do summary+=" $set ${RATIO[$set]},"; done
echo "${summary%,}"
echo "RSS: VmRSS after startup (idle) and VmHWM after the load (peak), from /proc; for nginx, master + worker."
echo "errors: non-2xx/3xx replies plus socket errors (connect/read/write/timeout) during the measurement."
