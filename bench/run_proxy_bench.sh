#!/usr/bin/env bash
# The proxy benchmark: what a sova-dc node adds in front of a TTS backend, next to nginx.
# Builds the node and the test backend (optimised, no sanitizers), starts one
# sova_test_backend (fixed, cheap replies, --concurrent: not one job at a time as a real
# SOVA server) and measures with wrk, all on loopback:
#   (a) the backend directly,
#   (b) through one sova-dc node (--services tts/cpu/<backend>),
#   (c) through nginx as a keep-alive reverse proxy (worker_processes 1: the node's HTTP
#       side runs one io thread by default, so both proxies get one core's worth),
#   (d) through bench_http_proxy_floor: our http::server and http::client alone, no
#       actors (what the node's HTTP layers cost, apart from its actors).
# Every setup is warmed up for 2 s, then measured with the same wrk settings. Prints
# req/s, p50 and p99 per setup, the latency each proxy adds to the direct one, the
# node/nginx throughput ratio and the node's resident memory idle and after the load.
#
# Environment: DURATION (10s), CONNECTIONS (16), THREADS (2, wrk threads), WARMUP (2s),
# BACKEND_THREADS (1, io threads of the backend), BUILD (1; 0 uses the existing binaries),
# SOVA_DC (the sova-dc binary to measure; default build-bench/sova-dc).
# wrk and nginx-light are installed with apt-get when missing; without nginx, row (c) is
# skipped. A node that does not serve (e.g. it does not know the flags) makes row (b)
# "unavailable"; the script goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh  # as_root, apt_install, free_port, stop_pid, ms

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
BACKEND_THREADS=${BACKEND_THREADS:-1}
BUILD=${BUILD:-1}
BUILD_DIR=build-bench
BODY='{"text": "hello", "voice": "Natasha"}'

log() { echo "proxy-bench: $*" >&2; }

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
[ -x "$BACKEND_BIN" ] || { log "$BACKEND_BIN is missing"; exit 1; }
[ -x "$NODE_BIN" ] || NODE_BUILT=0

# --- processes ----------------------------------------------------------------------------

start_work sova-proxy-bench  # WORK, PIDS; everything stopped and removed on exit
chmod 755 "$WORK"  # nginx workers (another user when started as root) use temp dirs in it

# POSTs the benchmark body; prints the HTTP status (000 when nothing answered).
post_status() {
  curl -s -o /dev/null -m 2 -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "$BODY" "$1" 2>/dev/null || true
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

# --- wrk ------------------------------------------------------------------------------------

{ wrk_result_hook; cat <<EOF; } >"$WORK/post.lua"
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
done = print_result
EOF

# Warms up, then measures; prints "rps p50_us p99_us non2xx socket_errors".
measure() {
  local url=$1 name=$2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$WORK/post.lua" "$url" >/dev/null 2>&1 || true
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WORK/post.lua" "$url" \
    >"$WORK/wrk-$name.txt" 2>&1 || true
  awk '$1 == "RESULT" { print $2, $3, $4, $5, $6; found = 1 } END { if (!found) exit 1 }' \
    "$WORK/wrk-$name.txt"
}

# --- (a) the backend directly -----------------------------------------------------------------

log "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$BACKEND_BIN" --listen 127.0.0.1:0 --name bench --concurrent --threads "$BACKEND_THREADS" >"$WORK/backend.out" 2>"$WORK/backend.err" &
BACKEND_PID=$!
PIDS+=("$BACKEND_PID")
BACKEND_PORT=
for _ in $(seq 100); do
  BACKEND_PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/backend.out")
  [ -n "$BACKEND_PORT" ] && break
  kill -0 "$BACKEND_PID" 2>/dev/null || break
  sleep 0.05
done
[ -n "$BACKEND_PORT" ] || { log "the backend did not start:"; cat "$WORK/backend.err" >&2; exit 1; }
log "backend on 127.0.0.1:$BACKEND_PORT"

declare -A RPS P50 P99 NON2XX SOCKERR AVAIL WHY
record() {  # name, then measure's output
  local name=$1
  shift
  if [ $# -eq 5 ]; then
    AVAIL[$name]=1 RPS[$name]=$1 P50[$name]=$2 P99[$name]=$3 NON2XX[$name]=$4 SOCKERR[$name]=$5
  else
    AVAIL[$name]=0 WHY[$name]="wrk gave no result (see its output above)"
    cat "$WORK/wrk-$name.txt" >&2 || true
  fi
}

log "(a) direct: wrk on /synthesize/"
# shellcheck disable=SC2046
record direct $(measure "http://127.0.0.1:$BACKEND_PORT/synthesize/" direct || true)

# --- (b) through a sova-dc node ---------------------------------------------------------------

NODE_IDLE=- NODE_PEAK=- NODE_AFTER=-
AVAIL[node]=0
if [ "$NODE_BUILT" = 1 ]; then
  UDP_PORT=$(free_port udp)
  NODE_HTTP=$(free_port tcp)
  log "(b) node: udp $UDP_PORT, http $NODE_HTTP; waiting up to 30 s for POST /synthesize to answer 200"
  "$NODE_BIN" node --bind 127.0.0.1 --port "$UDP_PORT" --http-port "$NODE_HTTP" \
    --services "tts/cpu/127.0.0.1:$BACKEND_PORT" --allow-loopback --admin-port 0 --log-level warn \
    >"$WORK/node.out" 2>"$WORK/node.err" &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
  if wait_serving "http://127.0.0.1:$NODE_HTTP/synthesize" 30 "$NODE_PID"; then
    NODE_IDLE=$(mem_mb "$NODE_PID" VmRSS)
    # shellcheck disable=SC2046
    record node $(measure "http://127.0.0.1:$NODE_HTTP/synthesize" node || true)
    NODE_PEAK=$(mem_mb "$NODE_PID" VmHWM)
    sleep 1
    NODE_AFTER=$(mem_mb "$NODE_PID" VmRSS)
    kill -0 "$NODE_PID" 2>/dev/null || { AVAIL[node]=0; WHY[node]="the node died under load"; }
  else
    if kill -0 "$NODE_PID" 2>/dev/null; then
      WHY[node]="the node did not answer 200 on /synthesize within 30 s (last: $(post_status "http://127.0.0.1:$NODE_HTTP/synthesize"))"
    else
      WHY[node]="the node exited: $(tail -n 3 "$WORK/node.err" "$WORK/node.out" 2>/dev/null | grep -v '^==>' | grep . | tail -n 1)"
    fi
  fi
  stop_pid "$NODE_PID"  # before (c): it must not compete for the cores
else
  WHY[node]="sova-dc is not built"
fi
[ "${AVAIL[node]}" = 1 ] || log "(b) node unavailable: ${WHY[node]}"

# --- (c) through nginx ----------------------------------------------------------------------

NGINX_IDLE=- NGINX_PEAK=-
AVAIL[nginx]=0
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
if [ -n "$NGINX" ]; then
  NGINX_PORT=$(free_port tcp)
  temp_paths=""
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
$1
  upstream sova_backend {
    server 127.0.0.1:$BACKEND_PORT;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT;
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
  log "(c) nginx on 127.0.0.1:$NGINX_PORT (worker_processes 1, upstream keepalive 32)"
  "$NGINX" -p "$WORK/" -e "$WORK/nginx-error.log" -c "$WORK/nginx.conf" -g 'daemon off;' \
    >"$WORK/nginx.out" 2>&1 &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  if wait_serving "http://127.0.0.1:$NGINX_PORT/synthesize/" 10 "$NGINX_PID"; then
    NGINX_IDLE=$(nginx_mem "$NGINX_PID" VmRSS)
    # shellcheck disable=SC2046
    record nginx $(measure "http://127.0.0.1:$NGINX_PORT/synthesize/" nginx || true)
    NGINX_PEAK=$(nginx_mem "$NGINX_PID" VmHWM)
  else
    WHY[nginx]="nginx did not serve: $(tail -n 2 "$WORK/nginx-error.log" "$WORK/nginx.out" 2>/dev/null | grep -v '^==>' | grep . | tail -n 1)"
  fi
  stop_pid "$NGINX_PID"
else
  WHY[nginx]="nginx is not installed and could not be installed (apt-get failed)"
fi
[ "${AVAIL[nginx]}" = 1 ] || log "(c) nginx skipped: ${WHY[nginx]}"

# --- (d) our HTTP layers alone ---------------------------------------------------------------

AVAIL[floor]=0
FLOOR_BIN=$BUILD_DIR/bench_http_proxy_floor
if [ -x "$FLOOR_BIN" ]; then
  FLOOR_PORT=$(free_port tcp)
  log "(d) http layers only on 127.0.0.1:$FLOOR_PORT"
  "$FLOOR_BIN" "$FLOOR_PORT" "$BACKEND_PORT" >"$WORK/floor.out" 2>&1 &
  FLOOR_PID=$!
  PIDS+=("$FLOOR_PID")
  if wait_serving "http://127.0.0.1:$FLOOR_PORT/synthesize" 10 "$FLOOR_PID"; then
    # shellcheck disable=SC2046
    record floor $(measure "http://127.0.0.1:$FLOOR_PORT/synthesize" floor || true)
  else
    WHY[floor]="it did not serve: $(tail -n 1 "$WORK/floor.out")"
  fi
  stop_pid "$FLOOR_PID"
else
  WHY[floor]="$FLOOR_BIN is not built"
fi
[ "${AVAIL[floor]}" = 1 ] || log "(d) http layers only skipped: ${WHY[floor]}"

# --- the table --------------------------------------------------------------------------------

added() {  # setup, P50|P99
  local -n arr=$2
  if [ "${AVAIL[$1]}" = 1 ] && [ "${AVAIL[direct]}" = 1 ]; then
    awk -v a="${arr[$1]}" -v d="${arr[direct]}" 'BEGIN { printf "%+.2f", (a - d) / 1000 }'
  else
    echo -
  fi
}

echo
echo "Proxy benchmark: POST $BODY"
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after ${WARMUP} warm-up), all on 127.0.0.1;" \
  "$(nproc) cores, shared by wrk, the proxy and the backend ($BACKEND_THREADS io thread(s))"
echo "nginx: worker_processes 1, upstream keepalive 32; sova-dc: default HTTP io threads (1)."
echo
row() { printf "%-22s %10s %9s %9s %10s %10s %10s %10s %8s\n" "$@"; }
row setup "req/s" "p50 ms" "p99 ms" "+p50 ms" "+p99 ms" "RSS idle" "RSS peak" "errors"
for name in direct node nginx floor; do
  case $name in
    direct) label="(a) backend directly" idle=- peak=- ;;
    node) label="(b) sova-dc node" idle=$NODE_IDLE peak=$NODE_PEAK ;;
    nginx) label="(c) nginx" idle=$NGINX_IDLE peak=$NGINX_PEAK ;;
    floor) label="(d) http layers only" idle=- peak=- ;;
  esac
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
echo
if [ "${AVAIL[node]}" = 1 ] && [ "${AVAIL[nginx]}" = 1 ]; then
  awk -v n="${RPS[node]}" -v x="${RPS[nginx]}" \
    'BEGIN { printf "throughput node/nginx: %.2f\n", (x > 0 ? n / x : 0) }'
else
  echo "throughput node/nginx: - (needs both rows)"
fi
if [ "${AVAIL[floor]}" = 1 ] && [ "${AVAIL[nginx]}" = 1 ]; then
  awk -v f="${RPS[floor]}" -v x="${RPS[nginx]}" -v n="${RPS[node]:-0}" 'BEGIN {
    printf "throughput http layers only/nginx: %.2f", (x > 0 ? f / x : 0)
    if (n > 0) printf "; node/http layers only: %.2f", n / f
    printf "\n" }'
fi
echo "RSS: VmRSS after startup (idle) and VmHWM after the load (peak), from /proc; for nginx, master + worker."
if [ "${AVAIL[node]}" = 1 ]; then
  awk -v a="$NODE_AFTER" -v p="$NODE_PEAK" -v i="$NODE_IDLE" 'BEGIN {
    printf "node VmRSS 1 s after the load: %s MB", a
    if (a + 0 > 2 * i && a + 0 >= 0.9 * p) printf " (still near the peak: kept after the requests ended)"
    printf "\n" }'
fi
echo "errors: non-2xx/3xx replies plus socket errors (connect/read/write/timeout) during the measurement."
