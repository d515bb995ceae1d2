# Helpers shared by the benchmark scripts in bench/ (sourced, not run).
# The sourcing script defines log() (its messages go to stderr with its own prefix).
# shellcheck shell=bash

# Runs a command as root: directly, or through sudo; fails when neither is possible.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else return 1
  fi
}

# Installs Debian packages with apt-get; when installing them together fails, one by one,
# so that one missing package does not keep the others out.
apt_install() {
  log "installing $*"
  export DEBIAN_FRONTEND=noninteractive
  if ! { as_root apt-get update -qq && as_root apt-get install -y -qq --no-install-recommends "$@"; } >&2; then
    log "apt-get failed; trying the packages one by one"
    for p in "$@"; do
      as_root apt-get install -y -qq --no-install-recommends "$p" >&2 || log "could not install $p"
    done
  fi
}

# A port that was free a moment ago (tcp or udp), on 127.0.0.1.
free_port() {
  local proto=$1 port
  if command -v python3 >/dev/null; then
    python3 - "$proto" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
    return
  fi
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 40000))
    # Nobody accepts there (for udp, a guess as good as any).
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  return 1
}

# Asks process $1 to stop, waits up to 5 s, then kills it.
stop_pid() {
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Microseconds (as wrk reports latencies) to milliseconds with two decimals.
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }

# Makes WORK, a fresh directory /tmp/$1.XXXXXX, and PIDS, the processes to stop: on exit
# (Ctrl-C and TERM too, with status 130) every one of them is stopped and WORK removed.
start_work() {
  WORK=$(mktemp -d "/tmp/$1.XXXXXX")
  PIDS=()
  trap stop_work EXIT
  trap 'exit 130' INT TERM
}

stop_work() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$WORK"
}

# The proxy benchmarks' requests (run_proxy_bench.sh, run_proxy_instructions.sh), written
# into directory $1: body-tts.json, a TTS request, and body-asr.form, a multipart form
# holding one $2-byte audio_blob file of random bytes, its boundary PROXY_BOUNDARY.
PROXY_BOUNDARY=sova-bench-7d3f9a
write_proxy_bodies() {
  printf '%s' '{"text": "hello", "voice": "Natasha"}' >"$1/body-tts.json"
  {
    printf -- '--%s\r\nContent-Disposition: form-data; name="audio_blob"; filename="speech.wav"\r\n' "$PROXY_BOUNDARY"
    printf 'Content-Type: audio/wav\r\n\r\n'
    head -c "$2" /dev/urandom
    printf -- '\r\n--%s--\r\n' "$PROXY_BOUNDARY"
  } >"$1/body-asr.form"
}

# Lua for a wrk script that POSTs the file $1 as Content-Type $2.
wrk_post_lua() {
  cat <<EOF
wrk.method = "POST"
local f = assert(io.open("$1", "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "$2"
EOF
}

# Lua for a wrk script: print_result, a done() hook that prints one machine-readable line,
# "RESULT req/s p50_us p99_us non2xx socket_errors".
wrk_result_hook() {
  cat <<'EOF'
function print_result(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.0f %.0f %d %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
EOF
}
