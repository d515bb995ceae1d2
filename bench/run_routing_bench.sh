#!/usr/bin/env bash
# The routing benchmark (issue 20): how close the network's choice of backend comes to one
# central queue. Four emulated single-worker SOVA TTS backends (sova_test_backend: one job
# at a time, FIFO, exponential service times of mean MEAN_MS, each job logged) and three
# nodes on 127.0.0.2-4 owning some of them (node 1: b1 b2, node 2: b3, node 3: b4).
# bench_routing_load sends Poisson arrivals (open loop) of TTS requests with unique texts,
# each to a node drawn uniformly; bench_routing_report compares what came back with the same
# arrivals and service times (from the job logs) replayed through one FIFO queue in front
# of the four backends (the M/M/c ideal) and through uniform random choice of a backend.
#
# Scenarios (SCENARIOS, in order; default all five):
#   load0.5 load0.8 load0.9  offered load rho: rate = rho * 4 / MEAN_MS
#   slow0.8                  load 0.8 with b4 four times slower (mean 4 * MEAN_MS)
#   hang0.8                  load 0.8; b1 hangs for HANG seconds in the middle of the run
#                            (POST /control {"hang": true}, then false)
# Per scenario: mean, p50, p99 of the network, the ideal and uniform random; the ratios to
# the ideal; failures (not 200); jobs run twice and hung (job logs); each backend's share.
# Then one table of all scenarios.
#
# Environment: DURATION (115, seconds of arrivals per scenario: ~1,840 requests at load
# 0.8), MEAN_MS (200), HANG (30), SEED (1), SCENARIOS, BUILD (1; 0 reuses the binaries in
# build-bench), ANNOUNCE (node, the default: each node announces its own HTTP endpoint, owns
# its backends' queue and entry nodes place requests by late binding across the owners;
# backends: each node announces its backends' own addresses and every node sends straight
# to every backend, the baseline measured in the README), NODE_ARGS (more
# flags for every node, e.g. "--attempt-timeout 5"), KEEP (1: keep the work directory with the
# CSVs, job logs and reports).
# Everything binds to loopback; everything started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh  # free_port, stop_pid, start_work

DURATION=${DURATION:-115}
MEAN_MS=${MEAN_MS:-200}
HANG=${HANG:-30}
SEED=${SEED:-1}
SCENARIOS=${SCENARIOS:-load0.5 load0.8 load0.9 slow0.8 hang0.8}
BUILD=${BUILD:-1}
NODE_ARGS=${NODE_ARGS:-}
ANNOUNCE=${ANNOUNCE:-node}
case $ANNOUNCE in backends | node) ;; *) echo "ANNOUNCE is backends or node" >&2; exit 2 ;; esac
BUILD_DIR=build-bench
BACKENDS=(b1 b2 b3 b4)
NODE_HOSTS=(127.0.0.2 127.0.0.3 127.0.0.4)
NODE_OWNS=("b1 b2" "b3" "b4")
SLOW_BACKEND=4  # b4 (1-based) in slow0.8
HANG_BACKEND=1  # b1 in hang0.8

log() { echo "routing-bench: $*" >&2; }

for s in $SCENARIOS; do
  case $s in load[0-9]* | slow[0-9]* | hang[0-9]*) ;; *) log "unknown scenario '$s'"; exit 2 ;; esac
done

if [ "$BUILD" != 0 ]; then
  bash deploy/install-deps.sh >&2
  launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSOVA_TESTS=OFF "${launcher[@]}" >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" \
    --target sova-dc sova_test_backend bench_routing_load bench_routing_report >&2
fi
for bin in sova-dc sova_test_backend bench_routing_load bench_routing_report; do
  [ -x "$BUILD_DIR/$bin" ] || { log "$BUILD_DIR/$bin is missing (BUILD=0 without a build?)"; exit 1; }
done
command -v curl >/dev/null || { log "curl is required"; exit 1; }

start_work sova-routing-bench  # WORK, PIDS; everything stopped and removed on exit
if [ "${KEEP:-0}" = 1 ]; then  # stop everything, but keep the CSVs, job logs and reports
  keep_work() { local pid; for pid in "${PIDS[@]}"; do stop_pid "$pid"; done; log "kept $WORK"; }
  trap keep_work EXIT
fi
RUN_ID=r$(date +%s)

# --- backends ---------------------------------------------------------------------------------

declare -A PORT
for i in "${!BACKENDS[@]}"; do
  b=${BACKENDS[$i]}
  "$BUILD_DIR/sova_test_backend" --listen 127.0.0.1:0 --name "$b" --only tts \
    --service-mean-ms "$MEAN_MS" --seed "$((SEED * 10 + i))" --job-log "$WORK/$b.jobs" \
    >"$WORK/$b.out" 2>"$WORK/$b.err" &
  PIDS+=("$!")
done
for b in "${BACKENDS[@]}"; do
  for _ in $(seq 100); do
    PORT[$b]=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/$b.out")
    [ -z "${PORT[$b]}" ] || break
    sleep 0.1
  done
  [ -n "${PORT[$b]}" ] || { log "$b did not start: $(cat "$WORK/$b.err")"; exit 1; }
done
log "backends: $(for b in "${BACKENDS[@]}"; do echo -n "$b 127.0.0.1:${PORT[$b]}  "; done)"

control() { curl -sf -m 5 -X POST -d "$2" "http://127.0.0.1:${PORT[$1]}/control" >/dev/null; }

# Waits up to 120 s until no backend holds or queues a job.
wait_idle() {
  local b deadline=$((SECONDS + 120))
  for b in "${BACKENDS[@]}"; do
    while [ $SECONDS -lt $deadline ] &&
      ! curl -s -m 2 "http://127.0.0.1:${PORT[$b]}/stats" | grep -q '"waiting":0,"busy":false'; do
      sleep 0.5
    done
  done
}

# --- nodes ------------------------------------------------------------------------------------

UDP_PORT=$(free_port udp)
NODE_URLS=()
for i in "${!NODE_HOSTS[@]}"; do
  host=${NODE_HOSTS[$i]}
  http_port=$(free_port tcp)
  services=()
  for b in ${NODE_OWNS[$i]}; do services+=("tts/cpu/127.0.0.1:${PORT[$b]}"); done
  args=(--services "$(IFS=,; echo "${services[*]}")" --announce "$ANNOUNCE")
  [ "$i" = 0 ] || args+=(--neighbours "${NODE_HOSTS[0]}:$UDP_PORT")
  # One client address sends all the load: no per-address connection cap.
  # shellcheck disable=SC2086
  "$BUILD_DIR/sova-dc" node --bind "$host" --port "$UDP_PORT" --http-port "$http_port" \
    --allow-loopback --directory-refresh 2 --admin-port 0 --max-connections-per-address 0 \
    --log-level warn "${args[@]}" $NODE_ARGS >"$WORK/node$((i + 1)).out" 2>"$WORK/node$((i + 1)).err" &
  PIDS+=("$!")
  NODE_URLS+=("$host:$http_port")
  log "node $((i + 1)) on $host (udp $UDP_PORT, http $http_port) owns ${NODE_OWNS[$i]}"
done

# The addresses node $1 (an index) must list in its /status before the load: the four
# backends, or with ANNOUNCE=node its own backends and the other nodes' endpoints.
expected_addresses() {
  local i=$1 b j
  if [ "$ANNOUNCE" = backends ]; then
    for b in "${BACKENDS[@]}"; do echo "127.0.0.1:${PORT[$b]}"; done
    return
  fi
  for b in ${NODE_OWNS[$i]}; do echo "127.0.0.1:${PORT[$b]}"; done
  for j in "${!NODE_URLS[@]}"; do [ "$j" = "$i" ] || echo "${NODE_URLS[$j]}"; done
}

# How many of those node $1 lists now.
known_backends() {
  local status a n=0
  status=$(curl -s -m 2 "http://${NODE_URLS[$1]}/status" || true)
  for a in $(expected_addresses "$1"); do
    grep -q "\"address\": *\"$a\"" <<<"$status" && n=$((n + 1))
  done
  echo "$n"
}

# A node's /status shows the backends its requests made it look up: one request through
# each node (ids "<run>-warmup-N", left out of every figure), until all know all four.
log "waiting until every node knows the backends (ANNOUNCE=$ANNOUNCE)"
deadline=$((SECONDS + 90)) warm=0
for i in "${!NODE_URLS[@]}"; do
  url=${NODE_URLS[$i]}
  want=$(expected_addresses "$i" | wc -l)
  while :; do
    warm=$((warm + 1))
    curl -s -m 10 -o /dev/null -X POST -H 'Content-Type: application/json' \
      -d "{\"text\": \"$RUN_ID-warmup-$warm\", \"voice\": \"Natasha\"}" "http://$url/synthesize" || true
    [ "$(known_backends "$i")" = "$want" ] && break
    [ $SECONDS -lt $deadline ] || { log "node $url knows $(known_backends "$i") of its $want addresses after 90 s"; exit 1; }
    sleep 1
  done
done
wait_idle
log "every node knows the backends ($warm warm-up requests)"

# --- scenarios --------------------------------------------------------------------------------

now() { date +%s.%N; }
ROWS=()
n=0
for scenario in $SCENARIOS; do
  n=$((n + 1))
  load=${scenario#load}
  load=${load#slow}
  load=${load#hang}
  rate=$(awk -v l="$load" -v m="$MEAN_MS" -v c="${#BACKENDS[@]}" 'BEGIN { printf "%.3f", l * c * 1000 / m }')
  prefix=$RUN_ID-$n-$scenario
  slowdowns=1,1,1,1
  report_args=()
  log "$scenario: load $load, $rate requests/s for $DURATION s"
  case $scenario in
    slow*)
      control "b$SLOW_BACKEND" "{\"service_mean_ms\": $((4 * MEAN_MS))}"
      slowdowns=$(for k in 1 2 3 4; do [ "$k" = "$SLOW_BACKEND" ] && echo -n 4 || echo -n 1; [ "$k" = 4 ] || echo -n ,; done)
      ;;
  esac
  "$BUILD_DIR/bench_routing_load" --nodes "$(IFS=,; echo "${NODE_URLS[*]}")" --rate "$rate" \
    --duration "$DURATION" --prefix "$prefix" --seed "$((SEED * 100 + n))" \
    --out "$WORK/$prefix.csv" 2>"$WORK/$prefix.load.err" &
  load_pid=$!
  PIDS+=("$load_pid")
  if [[ $scenario == hang* ]]; then
    hang_at=$(awk -v d="$DURATION" -v h="$HANG" 'BEGIN { s = d / 2 - h / 2; printf "%.1f", s < 0 ? 0 : s }')
    sleep "$hang_at"
    hang_from=$(now)
    control "b$HANG_BACKEND" '{"hang": true}'
    log "$scenario: b$HANG_BACKEND hangs for $HANG s"
    sleep "$HANG"
    control "b$HANG_BACKEND" '{"hang": false}'
    hang_to=$(now)
    report_args+=(--hang "$((HANG_BACKEND - 1)):$hang_from:$hang_to")
  fi
  wait "$load_pid" || { log "$scenario: bench_routing_load failed: $(cat "$WORK/$prefix.load.err")"; exit 1; }
  unset 'PIDS[-1]'  # it has ended: its number must not be signalled on exit
  log "$scenario: $(tail -n 1 "$WORK/$prefix.load.err")"
  [[ $scenario != slow* ]] || control "b$SLOW_BACKEND" "{\"service_mean_ms\": $MEAN_MS}"
  wait_idle
  jobs_args=()
  for b in "${BACKENDS[@]}"; do jobs_args+=(--job-log "$WORK/$b.jobs"); done
  "$BUILD_DIR/bench_routing_report" --requests "$WORK/$prefix.csv" "${jobs_args[@]}" \
    --prefix "$prefix-" --slowdowns "$slowdowns" --mean-ms "$MEAN_MS" --seed "$((SEED * 100 + n))" \
    --label "$scenario" "${report_args[@]}" >"$WORK/$prefix.report"
  grep -v '^ROW ' "$WORK/$prefix.report"
  echo
  ROWS+=("$(grep '^ROW ' "$WORK/$prefix.report")")
done

# --- summary ----------------------------------------------------------------------------------

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); mean service $MEAN_MS ms, $DURATION s per scenario, nodes with --announce $ANNOUNCE${NODE_ARGS:+ $NODE_ARGS}"
echo
echo "| scenario | requests | failed | run twice | network mean / p50 / p99 (s) | ideal mean / p50 / p99 | network/ideal mean, p99 | uniform random mean / p99 | uniform/ideal mean | jobs per backend (%) |"
echo "| --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: | --- |"
for row in "${ROWS[@]}"; do
  # shellcheck disable=SC2086
  set -- $row
  awk -v l="$2" -v r="$3" -v f="$4" -v t="$5" -v nm="$7" -v n5="$8" -v n9="$9" \
    -v im="${10}" -v i5="${11}" -v i9="${12}" -v um="${13}" -v u9="${15}" -v sh="${16}" 'BEGIN {
    gsub(",", " / ", sh)
    printf "| %s | %d | %d | %d | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | %.2f, %.2f | %.2f / %.2f | %.2f | %s |\n",
      l, r, f, t, nm, n5, n9, im, i5, i9, nm / im, n9 / i9, um, u9, um / im, sh }'
done
