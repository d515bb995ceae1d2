#!/usr/bin/env bash
# The backend benchmark: throughput of the reference backends (espeak-ng TTS, pocketsphinx
# ASR) alone and through a sova-dc network, with one and with two backends of a kind.
# For TTS and for ASR separately, all on loopback, measured with wrk:
#   (1) one backend directly (--workers 1),
#   (2) through the network with that one backend: node B (127.0.0.3) announces it, the
#       client talks to node A (127.0.0.2), which finds it through the DHT,
#   (3) through the network with two backends (two processes, --workers 1 each): node C
#       (127.0.0.4) announces the second one; the client still talks to node A, which
#       spreads the load (power of two choices).
# All nodes use the same UDP port on their own address. Every setup is checked with one
# request (200 and "response_code":0), warmed up, then measured once the backends are idle
# again. Prints req/s, p50, p99 and errors per setup, the scaling from one backend to two,
# the cores kept busy during each run (the whole machine, node A, each backend with its
# engine worker, from /proc) and the work each backend did (its /status served/failed).
#
# Environment: CONNECTIONS (4), THREADS (2, wrk threads), TTS_DURATION (10s),
# ASR_DURATION (15s), DURATION (sets both), WARMUP (3s), TIMEOUT (30s, wrk's per-request
# timeout), TTS_TEXT (the text to speak, no quotes), WAV (the recording to recognise),
# BUILD (1; 0 uses the existing binary), SOVA_DC (the sova-dc binary; default build-bench/sova-dc).
# wrk and curl are installed with apt-get when missing. A setup that cannot run is printed
# as "unavailable: why" and the script goes on.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh  # as_root, apt_install, free_port, stop_pid, ms

CONNECTIONS=${CONNECTIONS:-4}
THREADS=${THREADS:-2}
TTS_DURATION=${TTS_DURATION:-${DURATION:-10s}}
ASR_DURATION=${ASR_DURATION:-${DURATION:-15s}}
WARMUP=${WARMUP:-3s}
TIMEOUT=${TIMEOUT:-30s}
TTS_TEXT=${TTS_TEXT:-The quick brown fox jumps over the lazy dog, and then it runs away into the forest.}
WAV=${WAV:-/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav}
BUILD=${BUILD:-1}
BUILD_DIR=build-bench
KINDS=(tts asr)
SETUPS=(1 2 3)
# wrk needs at least one connection per thread.
[ "$THREADS" -le "$CONNECTIONS" ] || THREADS=$CONNECTIONS

log() { echo "backend-bench: $*" >&2; }

# --- tools and the binary ----------------------------------------------------------------

install_tools() {
  local missing=()
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# Builds sova-dc (Release, no sanitizers) in $BUILD_DIR; fails when it does not build.
build() {
  bash deploy/install-deps.sh >&2
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DSOVA_TESTS=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)" --target sova-dc >&2
}

# Why sova-dc cannot be measured, empty when it can: after a failed build, the binary
# left from an earlier one would not be what the sources say.
NO_SOVA_DC=
if [ "$BUILD" != 0 ] && ! build; then NO_SOVA_DC="sova-dc did not build (see the log)"; fi
install_tools
command -v wrk >/dev/null || { log "wrk is required and could not be installed"; exit 1; }
command -v curl >/dev/null || { log "curl is required and could not be installed"; exit 1; }
SOVA_DC=${SOVA_DC:-$BUILD_DIR/sova-dc}
[ -x "$SOVA_DC" ] || NO_SOVA_DC="$SOVA_DC is missing (not built?)"
[ -z "$NO_SOVA_DC" ] || log "$NO_SOVA_DC"

# --- processes ------------------------------------------------------------------------------

start_work sova-backend-bench  # WORK, PIDS; everything stopped and removed on exit

# Drops process $1, already stopped, from PIDS (its number may be reused later).
forget_pid() {
  local pid kept=()
  for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  PIDS=("${kept[@]}")
}

declare -A BACKEND_PORT BACKEND_PID BACKEND_WHY NODE_PID NODE_HTTP

# Starts backend $1 (tts1, tts2, asr1, asr2) on any free port; its port is read later
# by backend_port, so that all four load their engines at the same time.
start_backend() {
  local name=$1
  if [ -n "$NO_SOVA_DC" ]; then BACKEND_WHY[$name]=$NO_SOVA_DC; return; fi
  "$SOVA_DC" backend "${name%[0-9]}" --listen 127.0.0.1:0 --workers 1 --log-level info \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  BACKEND_PID[$name]=$!
  PIDS+=("$!")
}

# Waits up to 120 s for backend $1 to log "listening on HOST:PORT"; sets BACKEND_PORT.
backend_port() {
  local name=$1 pid=${BACKEND_PID[$1]:-} port deadline=$((SECONDS + 120))
  [ -n "$pid" ] || return 1
  while [ $SECONDS -lt $deadline ]; do
    port=$(sed -n 's/.* listening on [0-9.]*:\([0-9]*\)$/\1/p' "$WORK/$name.err")
    if [ -n "$port" ]; then BACKEND_PORT[$name]=$port; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      BACKEND_WHY[$name]="$name exited: $(grep . "$WORK/$name.err" | tail -n 1)"
      return 1
    fi
    sleep 0.2
  done
  BACKEND_WHY[$name]="$name did not listen within 120 s"
  return 1
}

# Starts node $1 on address $2 (UDP port $UDP_PORT, a free HTTP port) with the backends
# named in $3 (space-separated, those that run) and neighbours $4 (may be empty).
start_node() {
  local name=$1 addr=$2 backend services=() args=()
  for backend in $3; do
    [ -n "${BACKEND_PORT[$backend]:-}" ] && services+=("${backend%[0-9]}/cpu/127.0.0.1:${BACKEND_PORT[$backend]}")
  done
  [ ${#services[@]} -eq 0 ] || args+=(--services "$(IFS=,; echo "${services[*]}")")
  [ -z "$4" ] || args+=(--neighbours "$4")
  NODE_HTTP[$name]=$(free_port tcp)
  "$SOVA_DC" node --bind "$addr" --port "$UDP_PORT" --http-port "${NODE_HTTP[$name]}" \
    --allow-loopback --directory-refresh 1 --admin-port 0 --log-level warn "${args[@]}" \
    >"$WORK/node-$name.out" 2>"$WORK/node-$name.err" &
  NODE_PID[$name]=$!
  PIDS+=("$!")
  log "node $name on $addr: udp $UDP_PORT, http ${NODE_HTTP[$name]}${services[*]:+, announcing ${services[*]}}"
}

# Waits up to 60 s until node A's /status lists backend $1 (by its address).
node_a_knows() {
  local port=${BACKEND_PORT[$1]:-} deadline=$((SECONDS + 60))
  [ -n "$port" ] || return 1
  while [ $SECONDS -lt $deadline ]; do
    kill -0 "${NODE_PID[A]}" 2>/dev/null || return 1
    curl -s -m 2 "http://127.0.0.2:${NODE_HTTP[A]}/status" 2>/dev/null |
      grep -q "\"address\": *\"127.0.0.1:$port\"" && return 0
    sleep 0.5
  done
  return 1
}

# How node A sees the backends of kind $1 (its /status), for the log; needs python3.
node_view() {
  command -v python3 >/dev/null || return 0
  curl -s -m 2 "http://127.0.0.2:${NODE_HTTP[A]}/status" 2>/dev/null | python3 -c '
import json, sys
try:
    known = json.load(sys.stdin)["services"][sys.argv[1]]
except Exception as e:
    sys.exit("no status: %s" % e)
print("; ".join("%s %s, served %s, failed %s, refused %s" % (b["address"], b["breaker"],
      b["served"], b["failed"], b["refused"]) for b in known))' "$1" 2>&1 || true
}

# --- backend counters -----------------------------------------------------------------------

# Field $2 (served, failed, busy, queue) of backend $1's /status; "-" when it does not answer.
backend_stat() {
  local v
  v=$(curl -s -m 2 "http://127.0.0.1:${BACKEND_PORT[$1]}/status" 2>/dev/null |
    sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p")
  echo "${v:--}"
}

# Waits up to 120 s until the running backends of kind $1 have no job: wrk leaves requests
# behind when it stops, and they must not slow down the next run.
wait_idle() {
  local name deadline=$((SECONDS + 120))
  for name in "${1}1" "${1}2"; do
    [ -n "${BACKEND_PORT[$name]:-}" ] || continue
    while [ $SECONDS -lt $deadline ] &&
      [ "$(backend_stat "$name" busy)/$(backend_stat "$name" queue)" != 0/0 ]; do
      sleep 0.2
    done
  done
}

# "served failed" of every backend of kind $1, e.g. "12 0 7 0" (tts1 then tts2).
counters() {
  local name
  for name in "${1}1" "${1}2"; do
    if [ -n "${BACKEND_PORT[$name]:-}" ]; then
      echo -n "$(backend_stat "$name" served) $(backend_stat "$name" failed) "
    else
      echo -n "- - "
    fi
  done
}

# What each backend of kind $1 did between two counters outputs: "tts1 +12/+0  tts2 +7/+0".
work_done() {
  local kind=$1 before after i out=""
  read -ra before <<<"$2"
  read -ra after <<<"$3"
  for i in 0 1; do
    local s=$((2 * i)) f=$((2 * i + 1))
    if [ "${after[$s]}" = - ] || [ "${before[$s]}" = - ]; then
      out+="$kind$((i + 1)) -  "
    else
      out+="$kind$((i + 1)) +$((after[s] - before[s]))/+$((after[f] - before[f]))  "
    fi
  done
  echo "${out%  }"
}

# --- where the CPU goes -----------------------------------------------------------------------

# CPU time (clock ticks) used so far by process $1 and its children (a backend's engine
# workers); 0 when it does not run.
cpu_ticks() {
  local pid total=0 t
  [ -n "$1" ] || { echo 0; return; }
  for pid in "$1" $(cat "/proc/$1/task/"*/children 2>/dev/null); do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || true
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# "time busy total nodeA backend1 backend2" for kind $1: the machine's busy and total
# ticks (all cores, all users) from /proc/stat, then the ticks of our processes.
cpu_snapshot() {
  echo "$EPOCHREALTIME $(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)" \
    "$(cpu_ticks "${NODE_PID[A]:-}") $(cpu_ticks "${BACKEND_PID[${1}1]:-}") $(cpu_ticks "${BACKEND_PID[${1}2]:-}")"
}

# Cores kept busy between two snapshots: "all nodeA backend1 backend2"; "all" counts
# every process on the machine (other people's work too), the others only ours.
cpu_use() {
  awk -v a="$1" -v b="$2" -v cores="$(nproc)" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(a, x, " "); split(b, y, " ")
    secs = y[1] - x[1]
    all = (y[3] > x[3]) ? cores * (y[2] - x[2]) / (y[3] - x[3]) : 0
    printf "%.2f", all
    for (i = 4; i <= 6; i++) printf " %.2f", (y[i] - x[i]) / hz / secs
  }'
}

# --- wrk --------------------------------------------------------------------------------------

# One script for both kinds. The ASR body is built here: the WAV is read in binary mode
# and wrapped in a multipart/form-data field audio_blob (a Lua string holds any bytes).
{ wrk_result_hook; cat <<'EOF'; } >"$WORK/bench.lua"
wrk.method = "POST"
if os.getenv("BENCH_KIND") == "asr" then
  local f = assert(io.open(os.getenv("BENCH_WAV"), "rb"))
  local audio = f:read("*a")
  f:close()
  local boundary = "sova-bench-boundary-5f0c2a7e91d4"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  wrk.body = "--" .. boundary .. "\r\n"
    .. 'Content-Disposition: form-data; name="audio_blob"; filename="speech.wav"\r\n'
    .. "Content-Type: audio/wav\r\n\r\n"
    .. audio .. "\r\n--" .. boundary .. "--\r\n"
else
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = os.getenv("BENCH_BODY")
end

if os.getenv("BENCH_CHECK") == "1" then
  -- At the first reply, at once (wrk itself only ends after -d): "CHECK status ok
  -- body_bytes gist"; ok is 1 when the reply says "response_code":0; gist is the
  -- recognised text, the audio duration or the reply's start.
  function response(status, headers, body)
    if reported then return end
    reported = true
    local ok = body:find('"response_code":0', 1, true) and 1 or 0
    local gist = body:match('"text":"[^"]*"') or body:match('"duration_s":[%d.]+')
      or body:sub(1, 200):gsub("%s+", " ")
    io.write(string.format("CHECK %d %d %d %s\n", status, ok, #wrk.body, gist))
    io.flush()
  end
else
  done = print_result
end
EOF
TTS_BODY=$(printf '{"text": "%s", "voice": "en-us"}' "$TTS_TEXT")
export BENCH_WAV=$WAV BENCH_BODY=$TTS_BODY  # read by bench.lua

# Runs wrk for kind $1 on url $2 with further wrk arguments.
run_wrk() {
  local kind=$1 url=$2
  shift 2
  BENCH_KIND=$kind wrk --timeout "$TIMEOUT" -s "$WORK/bench.lua" "$@" "$url"
}

# One request through wrk (the very body the measurement sends): waits up to 60 s for
# its CHECK line, then stops wrk. Sets CHECK_WHY when it failed.
check_one() {
  local file=$WORK/check.txt pid deadline=$((SECONDS + 60)) out tag status ok bytes reply
  # wrk itself in the background (not run_wrk: $! would be a subshell, and stopping it
  # would leave wrk sending requests during the measurement).
  BENCH_CHECK=1 BENCH_KIND=$1 wrk --timeout "$TIMEOUT" -s "$WORK/bench.lua" -t1 -c1 -d120s "$2" \
    >"$file" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  while [ $SECONDS -lt $deadline ] && kill -0 "$pid" 2>/dev/null && ! grep -q '^CHECK' "$file"; do
    sleep 0.1
  done
  stop_pid "$pid"
  forget_pid "$pid"
  out=$(grep -m1 '^CHECK' "$file" || true)
  read -r tag status ok bytes reply <<<"$out" || true
  if [ "$tag" = CHECK ] && [ "$status" = 200 ] && [ "$ok" = 1 ]; then
    log "check: one request with the $bytes-byte body: 200, $reply"
    return 0
  fi
  CHECK_WHY="one request did not answer 200 with \"response_code\":0 (${out:-no reply within 60 s})"
  return 1
}

# Checks, warms up, then measures kind $1 on url $2 as setup $3. Sets the results.
declare -A RPS P50 P99 ERRORS WORK_DONE CPU WHY
measure() {
  local kind=$1 url=$2 key=$1:$3 duration before after result cpu_before cpu_after
  duration=$([ "$kind" = tts ] && echo "$TTS_DURATION" || echo "$ASR_DURATION")
  log "($3) $kind: $url"
  if ! check_one "$kind" "$url"; then WHY[$key]=$CHECK_WHY; return; fi
  run_wrk "$kind" "$url" -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" >/dev/null 2>&1 || true
  wait_idle "$kind"
  before=$(counters "$kind")
  cpu_before=$(cpu_snapshot "$kind")
  run_wrk "$kind" "$url" -t"$THREADS" -c"$CONNECTIONS" -d"$duration" --latency \
    >"$WORK/wrk-$kind-$3.txt" 2>&1 || true
  cpu_after=$(cpu_snapshot "$kind")
  wait_idle "$kind"  # the requests wrk left behind count as served, too
  after=$(counters "$kind")
  result=$(awk '$1 == "RESULT" { print $2, $3, $4, $5 + $6 }' "$WORK/wrk-$kind-$3.txt")
  if [ -z "$result" ]; then
    WHY[$key]="wrk gave no result"
    cat "$WORK/wrk-$kind-$3.txt" >&2
    return
  fi
  read -r "RPS[$key]" "P50[$key]" "P99[$key]" "ERRORS[$key]" <<<"$result"
  WORK_DONE[$key]=$(work_done "$kind" "$before" "$after")
  CPU[$key]=$(cpu_use "$cpu_before" "$cpu_after")
  [ "$3" != 1 ] || CPU[$key]="${CPU[$key]% * * *} - ${CPU[$key]#* * }"  # no node ran
  log "($3) $kind: ${RPS[$key]} req/s; ${WORK_DONE[$key]}"
  [ "$3" = 1 ] || log "($3) $kind: node A knows $(node_view "$kind")"
}

# --- the runs ---------------------------------------------------------------------------------

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "machine: $(nproc) cores, load average $LOAD_START"
[ -r "$WAV" ] || log "the recording $WAV is missing: the ASR rows will be unavailable"

for name in tts1 tts2 asr1 asr2; do start_backend "$name"; done
for name in tts1 tts2 asr1 asr2; do
  if backend_port "$name"; then
    log "$name on 127.0.0.1:${BACKEND_PORT[$name]}"
  else
    log "$name unavailable: ${BACKEND_WHY[$name]}"
  fi
done

# Why setup $2 of kind $1 cannot run, or nothing when it can.
blocked() {
  local kind=$1 setup=$2 name
  [ "$kind" = tts ] || [ -r "$WAV" ] || { echo "the recording $WAV is missing"; return; }
  for name in "${kind}1" "${kind}2"; do
    [ "$name" = "${kind}2" ] && [ "$setup" != 3 ] && continue
    [ -n "${BACKEND_PORT[$name]:-}" ] || { echo "${BACKEND_WHY[$name]:-$name did not start}"; return; }
  done
  if [ "$setup" != 1 ]; then
    [ -z "$NO_SOVA_DC" ] || { echo "$NO_SOVA_DC"; return; }
    kill -0 "${NODE_PID[A]:-0}" 2>/dev/null || { echo "node A is not running: $(grep . "$WORK/node-A.err" | tail -n 1)"; return; }
    for name in "${kind}1" "${kind}2"; do
      [ "$name" = "${kind}2" ] && [ "$setup" != 3 ] && continue
      node_a_knows "$name" || { echo "node A did not learn about $name within 60 s"; return; }
    done
  fi
}

# Measures setup $1 for both kinds, or notes why not.
run_setup() {
  local setup=$1 kind why url
  for kind in "${KINDS[@]}"; do
    why=$(blocked "$kind" "$setup")
    if [ -n "$why" ]; then
      WHY[$kind:$setup]=$why
      log "($setup) $kind unavailable: $why"
      continue
    fi
    case $kind:$setup in
      tts:1) url="http://127.0.0.1:${BACKEND_PORT[tts1]}/synthesize/" ;;
      asr:1) url="http://127.0.0.1:${BACKEND_PORT[asr1]}/asr" ;;
      tts:*) url="http://127.0.0.2:${NODE_HTTP[A]}/synthesize" ;;
      asr:*) url="http://127.0.0.2:${NODE_HTTP[A]}/asr" ;;
    esac
    measure "$kind" "$url" "$setup"
  done
}

run_setup 1

# The network: B announces the first backends, A (the client's node) knows none of its own.
if [ -z "$NO_SOVA_DC" ]; then
  UDP_PORT=$(free_port udp)
  start_node B 127.0.0.3 "tts1 asr1" ""
  start_node A 127.0.0.2 "" "127.0.0.3:$UDP_PORT"
fi
run_setup 2

# The second backend of each kind joins through a third node.
if [ -z "$NO_SOVA_DC" ]; then start_node C 127.0.0.4 "tts2 asr2" "127.0.0.3:$UDP_PORT"; fi
run_setup 3
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the table ----------------------------------------------------------------------------------

row() { printf "%-24s %7s %8s %8s %6s   %5s %6s %5s %5s   %s\n" "$@"; }
ratio() {  # key a, key b: RPS[a] / RPS[b]
  if [ -n "${RPS[$1]:-}" ] && [ -n "${RPS[$2]:-}" ]; then
    awk -v a="${RPS[$1]}" -v b="${RPS[$2]}" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'
  else
    echo "-"
  fi
}

echo
echo "Backend benchmark: reference backends alone and through a sova-dc network"
echo "$(nproc) cores, shared by wrk, the nodes, the backends and their engine workers" \
  "(and whatever else runs here): two backends can at best use both cores."
echo "load average: $LOAD_START at the start, $LOAD_END at the end."
echo "wrk -t$THREADS -c$CONNECTIONS --timeout $TIMEOUT, after a $WARMUP warm-up; each backend --workers 1;" \
  "network: client -> node A (127.0.0.2) -> DHT -> backends announced by B (127.0.0.3) and C (127.0.0.4)."
for kind in "${KINDS[@]}"; do
  echo
  if [ "$kind" = tts ]; then
    echo "TTS (espeak-ng): POST /synthesize $TTS_BODY, -d$TTS_DURATION"
  else
    echo "ASR (pocketsphinx): POST /asr multipart audio_blob=$(basename "$WAV") ($(stat -c %s "$WAV" 2>/dev/null || echo '?') bytes), -d$ASR_DURATION"
  fi
  printf "%-24s %7s %8s %8s %6s   %-23s   %s\n" "" "" "" "" "" "cores busy during run" "per backend"
  row setup "req/s" "p50 ms" "p99 ms" errors all "node A" "${kind}1" "${kind}2" "+served/+failed"
  for setup in "${SETUPS[@]}"; do
    case $setup in
      1) label="(1) 1 backend directly" ;;
      2) label="(2) network, 1 backend" ;;
      3) label="(3) network, 2 backends" ;;
    esac
    key=$kind:$setup
    if [ -n "${RPS[$key]:-}" ]; then
      read -r c_all c_node c_b1 c_b2 <<<"${CPU[$key]}"
      row "$label" "${RPS[$key]}" "$(ms "${P50[$key]}")" "$(ms "${P99[$key]}")" \
        "${ERRORS[$key]}" "$c_all" "$c_node" "$c_b1" "$c_b2" "${WORK_DONE[$key]}"
    else
      printf "%-24s unavailable: %s\n" "$label" "${WHY[$key]:-not run}"
    fi
  done
  echo "scaling 2 vs 1 backends, (3)/(2): $(ratio "$kind:3" "$kind:2");" \
    "network vs direct, (2)/(1): $(ratio "$kind:2" "$kind:1")"
done
echo
echo "errors: non-2xx/3xx replies plus socket errors (connect/read/write/timeout) during the measurement."
echo "cores busy: CPU time over the run divided by its length, from /proc; \"all\" is the whole"
echo "machine (everyone's processes), a backend's figure includes its engine worker; nodes B and C"
echo "only announce and answer lookups (a few per cent of a core). +served/+failed: change of each"
echo "backend's /status counters over the run, including the requests wrk left in flight at its end."
saturated=0 runs=0
for key in "${!CPU[@]}"; do
  runs=$((runs + 1))
  if awk -v a="${CPU[$key]%% *}" -v n="$(nproc)" 'BEGIN { exit !(a >= 0.95 * n) }'; then
    saturated=$((saturated + 1))
  fi
done
if [ "$saturated" -gt 0 ]; then
  echo "The machine was fully busy during $saturated of $runs runs: the backends shared the cores with"
  echo "other processes, so these figures (and the scaling) are what was left for them, not their best."
fi
