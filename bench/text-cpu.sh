#!/usr/bin/env bash
# What a text prediction costs: server CPU per request for a text classifier (default sentiment)
# over HTTP, against the same classifier class (tokenizer + ONNX Runtime calls) called in-process
# in a loop, in the same run.
#
#   bench/text-cpu.sh                      # build, then ROUNDS alternating rounds
#   ROUNDS=5 DURATION=10 bench/text-cpu.sh --no-build
#
# HTTP side: the gateway as shipped (default config: access log, metrics, bulkheads with
# max_concurrent_predictions 2, onnx.intra_op_threads 1) serving only the classifier's jar from
# plugins/target/plugins, driven by wrk at concurrency C (16) with the example body its GET
# /<classifier> advertises; CPU = utime+stime of the gateway from /proc/PID/stat over the run,
# divided by the requests wrk completed.
# In-process side: bench/TextCpu.java opens the plugin jar's own classifier class on its artifacts
# and card (one intra-op thread) and calls predict with the same instance, one per call, from
# THREADS (2, the bulkhead's concurrency) threads; CPU = that JVM's utime+stime over the loop,
# divided by the calls. Both warm up for WARMUP s first; the rounds alternate which side goes first.
# ratio = gateway µs/req / in-process µs/call. Results: bench/results/text-cpu-<UTC time>.md.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
C=${C:-16}
THREADS=${THREADS:-2}
CLASSIFIER=${CLASSIFIER:-sentiment}
GATEWAY_PORT=${GATEWAY_PORT:-8275}
out=bench/target/text-cpu
mkdir -p "$out/plugins" "$out/wrk" bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results/text-cpu-$stamp.md
jar=plugins/target/plugins/$CLASSIFIER.jar
runtime=gateway/runtime/target/mlserver-runtime.jar

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -q -B -o -DskipTests package
fi
[[ -f "$jar" ]] || { echo "no $jar: build the plugins first" >&2; exit 1; }
rm -f "$out/plugins/"*.jar
cp "$jar" "$out/plugins/"
javac -proc:none -cp "$runtime" -d "$out/classes" bench/TextCpu.java

. bench/lib.sh

start_gateway "$out/gateway.log" "$GATEWAY_PORT" --grpc-port 0 --plugins-dir "$out/plugins"
# the advertised example is a whole body, {"payload": <instance>}
curl -sf "http://127.0.0.1:$GATEWAY_PORT/$CLASSIFIER" | python3 -c 'import json,sys; body = json.load(sys.stdin)["example"]
print(json.dumps(body), file=open(sys.argv[1], "w")); print(json.dumps(body["payload"]), file=open(sys.argv[2], "w"))' \
  "$out/request.json" "$out/instance.json"

# The in-process loop, kept alive between rounds: it answers "ready" after its warm-up, then one
# line per "run SECONDS" it reads.
coproc INPROC { CLK_TCK=$ticks exec java -cp "$runtime:$jar:$out/classes" TextCpu "$jar" "$out/instance.json" \
  "$THREADS" "$WARMUP" 2> "$out/inproc.log"; }
inproc_pid=$INPROC_PID; pids+=("$inproc_pid")
inproc_out=${INPROC[0]}; inproc_in=${INPROC[1]}
inproc_result=""
inproc() { # SECONDS -> sets inproc_result to "calls µs_per_call calls_per_s"
  echo "run $1" >&"$inproc_in"
  if ! read -r -t $(( $1 + 120 )) inproc_result <&"$inproc_out" || [[ $inproc_result == error* ]]; then
    echo "in-process loop gave no answer: $inproc_result" >&2; tail "$out/inproc.log" >&2; exit 1
  fi
}

gateway() { # SECONDS TAG -> "req/s µs_per_req"
  local before after report
  before=$(cpu_ticks "$gateway_pid")
  report=$(BODY_FILE="$out/request.json" wrk -t2 -c"$C" -d"${1}s" --latency -s bench/post.lua \
    "http://127.0.0.1:$GATEWAY_PORT/$CLASSIFIER/predict")
  after=$(cpu_ticks "$gateway_pid")
  echo "$report" > "$out/wrk/$2.txt"
  if grep -q "Non-2xx\|Socket errors" <<< "$report"; then echo "errors in $out/wrk/$2.txt" >&2; exit 1; fi
  echo "$report" | python3 -c '
import re, sys
text = sys.stdin.read()
requests = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rps:.0f} {float(sys.argv[2]) / float(sys.argv[1]) * 1e6 / max(requests, 1):.1f}")
' "$ticks" "$(( after - before ))"
}

if ! read -r -t $(( WARMUP + 300 )) line <&"$inproc_out" || [[ $line != ready ]]; then
  echo "in-process loop not ready: ${line:-}" >&2; tail "$out/inproc.log" >&2; exit 1
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "warming the gateway ($WARMUP s)" >&2
gateway "$WARMUP" warmup > /dev/null

rounds=()
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then g=$(gateway "$DURATION" "round-$r"); inproc "$DURATION"
  else inproc "$DURATION"; g=$(gateway "$DURATION" "round-$r"); fi
  read -r g_rps g_cpu <<< "$g"
  read -r p_calls p_cpu p_rate <<< "$inproc_result"
  ratio=$(awk -v g="$g_cpu" -v p="$p_cpu" 'BEGIN {printf "%.3f", g / p}')
  echo "round $r: gateway $g_rps req/s, $g_cpu µs/req; in-process $p_rate calls/s, $p_cpu µs/call; ratio $ratio" >&2
  rounds+=("$g_rps $g_cpu $p_rate $p_cpu $ratio")
done

{
  echo "# Text CPU per request, $CLASSIFIER: gateway over HTTP against the classifier in-process, $stamp"
  echo
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GB RAM, $(uname -r)"
  echo "- java: $(java -version 2>&1 | head -1); wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- code: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- gateway plugin-api plugins config || echo ' (with local changes)')"
  echo "- command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP C=$C THREADS=$THREADS CLASSIFIER=$CLASSIFIER bench/text-cpu.sh"
  echo "- instance: $(cut -c1-120 "$out/instance.json")"
  echo "- load before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Gateway: default config, wrk -t2 -c$C, CPU of the gateway process per request. In-process:"
  echo "the plugin's classifier class, predict with one instance per call from $THREADS threads, CPU of"
  echo "that JVM per call. Rounds of ${DURATION} s alternate which goes first; ratio = gateway / in-process."
  echo
  echo "| round | gateway req/s | gateway µs/req | in-process calls/s | in-process µs/call | ratio |"
  echo "|---|---|---|---|---|---|"
  i=0
  for line in "${rounds[@]}"; do
    i=$((i + 1))
    read -r a b c d e <<< "$line"
    echo "| $i | $a | $b | $c | $d | $e |"
  done
  printf '%s\n' "${rounds[@]}" | python3 -c '
import statistics, sys
rows = [list(map(float, l.split())) for l in sys.stdin if l.strip()]
m = lambda i: statistics.median(r[i] for r in rows)
print(f"| median | {m(0):,.0f} | {m(1):.1f} | {m(2):,.0f} | {m(3):.1f} | {m(4):.3f} |")'
} > "$results"
cat "$results"
