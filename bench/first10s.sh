#!/usr/bin/env bash
# The first seconds after readiness: a freshly started gateway (default config, its warm-up on)
# is driven the moment /health/ready answers 200, against the bare Vert.x route's steady state
# measured in the same run after its own warm-up.
#
#   bench/first10s.sh                       # build, then ROUNDS fresh gateway starts
#   ROUNDS=5 DURATION=10 C=16 bench/first10s.sh --no-build
#   CONFIG=my-gateway.yaml bench/first10s.sh --no-build   # the gateway on another config
#
# Per round: start the gateway (java -jar mlserver-runtime.jar serve, plugins/target/plugins),
# poll /health/ready every 50 ms, and as soon as it is ready run wrk on iris at concurrency C for
# DURATION s (nothing else touches the gateway between readiness and wrk); stop the gateway; then
# run the bare route (bench/BareServer.java, warmed once for WARMUP s at the start) for DURATION s.
# ratio = gateway req/s over its first DURATION s / bare req/s of the same round. The table holds
# medians over rounds; server CPU per request is utime+stime from /proc/PID/stat over the wrk run,
# divided by the requests wrk completed. Results: bench/results/first10s-<UTC time>.md and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
C=${C:-16}
CLASSIFIER=${CLASSIFIER:-iris}
GATEWAY_PORT=${GATEWAY_PORT:-8271}
BARE_PORT=${BARE_PORT:-8272}
PLUGINS=${PLUGINS:-plugins/target/plugins}
out=bench/target/first10s
mkdir -p "$out/bodies" "$out/wrk" bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results/first10s-$stamp.md

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -q -B -o -DskipTests package
fi
javac -proc:none -cp gateway/runtime/target/mlserver-runtime.jar -d "$out/classes" bench/BareServer.java

. bench/lib.sh
# the gateway as shipped; its gRPC port on a free port, so that a busy 8001 cannot stop it
serve=(${CONFIG:+--config="$CONFIG"} --grpc-port 0 --plugins-dir "$PLUGINS")

# run URL PID SECONDS TAG -> "req/s cpu_us_per_req"; refuses a run with errors
run() {
  local url=$1 pid=$2 secs=$3 tag=$4 before after report
  before=$(cpu_ticks "$pid")
  report=$(BODY_FILE="$out/request.json" wrk -t2 -c"$C" -d"${secs}s" --latency -s bench/post.lua "$url")
  after=$(cpu_ticks "$pid")
  echo "$report" > "$out/wrk/$tag.txt"
  if grep -q "Non-2xx\|Socket errors" <<< "$report"; then echo "errors in $out/wrk/$tag.txt" >&2; exit 1; fi
  echo "$report" | python3 -c '
import re, sys
text = sys.stdin.read()
requests = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.0f} {float(sys.argv[2]) / float(sys.argv[1]) * 1e6 / max(requests, 1):.1f}")
' "$ticks" "$(( after - before ))"
}

# A first start only to learn the example body and its answer (the bare route's bytes); the
# measured starts below get no request before wrk's.
start_gateway "$out/gateway-0.log" "$GATEWAY_PORT" "${serve[@]}"
curl -sf "http://127.0.0.1:$GATEWAY_PORT/$CLASSIFIER" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["example"]))' \
  > "$out/request.json"
curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$out/request.json" \
  "http://127.0.0.1:$GATEWAY_PORT/$CLASSIFIER/predict" > "$out/bodies/$CLASSIFIER.json"
stop_gateway

java -cp "gateway/runtime/target/mlserver-runtime.jar:$out/classes" BareServer "$BARE_PORT" "$out/bodies" > "$out/bare.log" 2>&1 &
bare_pid=$!; pids+=("$bare_pid")
for _ in $(seq 1 60); do
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$BARE_PORT/$CLASSIFIER" && break
  sleep 0.5
done
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "warming the bare route ($WARMUP s)" >&2
run "http://127.0.0.1:$BARE_PORT/$CLASSIFIER" "$bare_pid" "$WARMUP" bare-warmup > /dev/null

rounds=()
for r in $(seq 1 "$ROUNDS"); do
  start_gateway "$out/gateway-$r.log" "$GATEWAY_PORT" "${serve[@]}"
  ready=$ready_s
  gateway_line=$(run "http://127.0.0.1:$GATEWAY_PORT/$CLASSIFIER/predict" "$gateway_pid" "$DURATION" "gateway-$r")
  stop_gateway
  bare_line=$(run "http://127.0.0.1:$BARE_PORT/$CLASSIFIER" "$bare_pid" "$DURATION" "bare-$r")
  read -r g_rps g_cpu <<< "$gateway_line"
  read -r b_rps b_cpu <<< "$bare_line"
  ratio=$(awk -v g="$g_rps" -v b="$b_rps" 'BEGIN {printf "%.2f", g / b}')
  echo "round $r: ready after $ready s; first ${DURATION} s $g_rps req/s ($g_cpu µs/req); bare $b_rps req/s ($b_cpu µs/req); ratio $ratio" >&2
  rounds+=("$ready $g_rps $g_cpu $b_rps $b_cpu $ratio")
done

{
  echo "# First ${DURATION} s after readiness, $CLASSIFIER at c=$C, $stamp"
  echo
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GB RAM, $(uname -r)"
  echo "- java: $(java -version 2>&1 | head -1); wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- code: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- gateway plugin-api plugins config || echo ' (with local changes)')"
  echo "- command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP C=$C CLASSIFIER=$CLASSIFIER bench/first10s.sh"
  echo "- gateway: ${CONFIG:-default config (config/gateway.yaml: warm-up on, access log, metrics, bulkheads)}, $PLUGINS"
  echo "- load before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Per round, a fresh gateway JVM, driven from the moment /health/ready answered; the bare route"
  echo "(warmed once for ${WARMUP} s) measured right after it; ratio = gateway / bare of the same round."
  echo
  echo "| round | ready after s | gateway first ${DURATION} s req/s | gateway µs/req | bare req/s | bare µs/req | ratio |"
  echo "|---|---|---|---|---|---|---|"
  i=0
  for line in "${rounds[@]}"; do
    i=$((i + 1))
    read -r a b c d e f <<< "$line"
    echo "| $i | $a | $b | $c | $d | $e | $f |"
  done
  printf '%s\n' "${rounds[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
m = lambda i: statistics.median(r[i] for r in rows)
print(f"| median | {m(0):.1f} | {m(1):,.0f} | {m(2):.1f} | {m(3):,.0f} | {m(4):.1f} | {m(5):.2f} |")'
} > "$results"
cat "$results"
