# What the bench scripts share; each sources it from the repository root (`. bench/lib.sh`).

# The gateways a script starts listen on loopback only (the shipped config listens on 0.0.0.0):
# load is driven at 127.0.0.1 and nothing else on the network reaches them.
export MLSERVER_HOST=${MLSERVER_HOST:-127.0.0.1}

# Processes a script starts in the background go into pids; they are stopped when it exits.
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# Server CPU: utime + stime of process $1 in clock ticks, $ticks of them a second.
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# answered BASE PROTOCOL -> "<status 200> <other statuses>" from the gateway's own counters
# (mlserver_requests_total) at BASE: h2load counts HTTP statuses, and a gRPC error is HTTP 200
# with grpc-status in the trailers.
answered() {
  curl -sf "$1/metrics" | python3 -c '
import re, sys
ok = other = 0
for line in sys.stdin:
    if line.startswith("mlserver_requests_total{") and f"protocol=\"{sys.argv[1]}\"" in line:
        status = re.search(r"status=\"(\d+)\"", line).group(1)
        value = float(line.rsplit(" ", 1)[1])
        if status == "200":
            ok += value
        elif status != "499":  # 499: the client closed first (h2load stops its last requests at the deadline)
            other += value
print(int(ok), int(other))' "$2"
}

now() { date +%s.%N; }

# start_gateway LOG PORT SERVE_ARGS... -> a fresh gateway (java -jar mlserver-runtime.jar serve
# --port PORT SERVE_ARGS...), its output in LOG; returns once /health/ready answers 200 (polled
# every 50 ms), with gateway_pid set, and ready_s the seconds from start to ready.
gateway_pid=""
ready_s=""
start_gateway() {
  local t0 log=$1 port=$2
  shift 2
  t0=$(now)
  java -jar gateway/runtime/target/mlserver-runtime.jar serve --port "$port" "$@" > "$log" 2>&1 &
  gateway_pid=$!; pids+=("$gateway_pid")
  for _ in $(seq 1 2400); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/health/ready"; then
      ready_s=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.1f", b - a}')
      return
    fi
    kill -0 "$gateway_pid" 2>/dev/null || break
    sleep 0.05
  done
  echo "gateway not ready" >&2; tail "$log" >&2; exit 1
}
stop_gateway() {
  kill "$gateway_pid" 2>/dev/null || true
  wait "$gateway_pid" 2>/dev/null || true
}
