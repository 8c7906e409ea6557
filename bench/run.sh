#!/usr/bin/env bash
# Load benchmark of the gateway against a bare Vert.x route answering the same bytes.
# The bare route runs twice: on NIO (the baseline the targets are stated against) and on Netty's
# native epoll transport, which the gateway itself uses where it loads (server.native_transport).
#
#   bench/run.sh                  # build, then ROUNDS x (c=1,16,64) x (bare, each classifier)
#   ROUNDS=1 DURATION=5 bench/run.sh --no-build
#   PROFILE=1 bench/run.sh        # also a JFR recording of the gateway under iris load at c=16
#
# The classifiers in $CLASSIFIERS (default: iris, the tabular one, and sentiment, the MiniLM text
# one) that the gateway serves from plugins/target/plugins are measured, each with the example
# body its GET /<classifier> advertises; one whose jar is absent is skipped. Everything
# runs on 127.0.0.1: ports 8221 (gateway), 8222 (bare, NIO) and 8223 (bare, epoll). Runs are interleaved (bare, then each
# classifier, at each concurrency, round after round); the table shows medians over rounds.
# Server CPU per request = utime+stime of the server process from /proc/PID/stat over the run,
# divided by the requests wrk completed. Results: bench/results/<UTC time>.md and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
CONCURRENCY=${CONCURRENCY:-"1 16 64"}
GATEWAY_PORT=${GATEWAY_PORT:-8221}
BARE_PORT=${BARE_PORT:-8222}
EPOLL_BARE_PORT=${EPOLL_BARE_PORT:-8223}
PLUGINS=${PLUGINS:-plugins/target/plugins}
out=bench/target
mkdir -p "$out/bodies" "$out/requests" "$out/wrk" bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results/$stamp.md

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -q -B -o -DskipTests package
fi
javac -proc:none -cp gateway/runtime/target/mlserver-runtime.jar -d "$out/classes" bench/BareServer.java

. bench/lib.sh

# The gateway as shipped: JSON logs and access lines on (written to a file), metrics, bulkheads.
start_gateway "$out/gateway.log" "$GATEWAY_PORT" --grpc-port 0 --plugins-dir "$PLUGINS"

# One request body per classifier (its advertised example), and the response it gets, byte for
# byte, as the bare route's answer.
classifiers=$(curl -sf "http://127.0.0.1:$GATEWAY_PORT/classifiers" | python3 -c '
import json, sys
served = {c["name"] for c in json.load(sys.stdin)["classifiers"]}
print(" ".join(c for c in sys.argv[1].split() if c in served))' "${CLASSIFIERS:-iris sentiment}")
for c in $classifiers; do
  curl -sf "http://127.0.0.1:$GATEWAY_PORT/$c" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["example"]))' \
    > "$out/requests/$c.json"
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$out/requests/$c.json" \
    "http://127.0.0.1:$GATEWAY_PORT/$c/predict" > "$out/bodies/$c.json"
done

java -cp "gateway/runtime/target/mlserver-runtime.jar:$out/classes" BareServer $BARE_PORT "$out/bodies" > "$out/bare.log" 2>&1 &
bare_pid=$!; pids+=("$bare_pid")
java -cp "gateway/runtime/target/mlserver-runtime.jar:$out/classes" BareServer $EPOLL_BARE_PORT "$out/bodies" epoll > "$out/bare-epoll.log" 2>&1 &
epoll_bare_pid=$!; pids+=("$epoll_bare_pid")
for port in $BARE_PORT $EPOLL_BARE_PORT; do
  for _ in $(seq 1 60); do
    curl -sf -X POST "http://127.0.0.1:$port/${classifiers%% *}" >/dev/null && break
    sleep 0.5
  done
done


# run TARGET CLASSIFIER CONCURRENCY SECONDS -> "req/s p50_ms p99_ms cpu_us_per_req non2xx"
run() {
  local target=$1 c=$2 conc=$3 secs=$4 url pid threads
  if [[ $target == bare ]]; then url="http://127.0.0.1:$BARE_PORT/$c"; pid=$bare_pid
  elif [[ $target == bare_epoll ]]; then url="http://127.0.0.1:$EPOLL_BARE_PORT/$c"; pid=$epoll_bare_pid
  else url="http://127.0.0.1:$GATEWAY_PORT/$c/predict"; pid=$gateway_pid; fi
  threads=$(( conc < 2 ? conc : 2 ))
  local before after report
  before=$(cpu_ticks "$pid")
  report=$(BODY_FILE="$out/requests/$c.json" wrk -t"$threads" -c"$conc" -d"${secs}s" --latency -s bench/post.lua "$url")
  after=$(cpu_ticks "$pid")
  echo "$report" > "$out/wrk/$target-$c-$conc-$(date +%s).txt"
  echo "$report" | python3 -c '
import re, sys
text = sys.stdin.read()
ticks, cpu = float(sys.argv[1]), float(sys.argv[2])
def ms(v):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", v)
    if not m:
        return float("nan")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]
requests = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errors = re.search(r"Socket errors: (.*)", text)
cpu_us = cpu / ticks * 1e6 / max(requests, 1)
socket = " " + errors.group(1).replace(" ", "") if errors else ""
print(f"{rps:.0f} {p50:.3f} {p99:.3f} {cpu_us:.1f} {int(bad.group(1)) if bad else 0}{socket}")
' "$ticks" "$(( after - before ))"
}

{
  echo "# Benchmark run $stamp"
  echo
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GB RAM, $(uname -r)"
  echo "- java: $(java -version 2>&1 | head -1); wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "- command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=\"$CONCURRENCY\" bench/run.sh"
  echo "- classifiers: $classifiers; gateway defaults (config/gateway.yaml): JSON access log to a file, metrics, bulkheads"
  echo "- load before: $(cut -d' ' -f1-3 /proc/loadavg); busiest other processes: $(ps -eo pcpu=,comm= --sort=-pcpu | grep -v -E 'wrk|ps$' | head -5 | awk '{printf "%s %s%%; ", $2, $1}')"
} > "$results"

echo "warming up ($WARMUP s per target)" >&2
for c in $classifiers; do
  run bare "$c" 16 "$WARMUP" >/dev/null
  run bare_epoll "$c" 16 "$WARMUP" >/dev/null
  run gateway "$c" 16 "$WARMUP" >/dev/null
done

declare -A raw
for round in $(seq 1 "$ROUNDS"); do
  for conc in $CONCURRENCY; do
    for c in $classifiers; do
      for target in bare bare_epoll gateway; do
        line=$(run "$target" "$c" "$conc" "$DURATION")
        echo "round $round c=$conc $target $c: $line" >&2
        raw["$target $c $conc"]+="$line;"
      done
    done
  done
done

if [[ "${PROFILE:-0}" == 1 ]]; then
  first=${classifiers%% *}
  jcmd "$gateway_pid" JFR.start name=bench settings="$PWD/bench/sampling.jfc" filename="$PWD/$out/gateway.jfr" >/dev/null
  line=$(run gateway "$first" 16 "$DURATION")
  jcmd "$gateway_pid" JFR.stop name=bench >/dev/null
  echo "profiled run c=16 $first: $line; recording $out/gateway.jfr" >&2
fi

{
  echo "- load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Medians over $ROUNDS round(s) of ${DURATION} s; p50/p99 as wrk reports them (its p99 is corrected"
  echo "for coordinated omission); ratio = req/s / the NIO bare route's req/s at the same concurrency"
  echo "(the gateway's ratio to the epoll bare route is listed below the table)."
  echo
  echo "| classifier | c | target | req/s | p50 ms | p99 ms | ratio | server CPU µs/req | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for c in $classifiers; do
    for conc in $CONCURRENCY; do
      bare_rps=""
      for target in bare bare_epoll gateway; do
        python3 - "$target" "$c" "$conc" "${raw["$target $c $conc"]}" "$bare_rps" <<'PY'
import statistics, sys
target, c, conc, raw, bare = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
runs = [r.split() for r in raw.strip(";").split(";")]
med = lambda i: statistics.median(float(r[i]) for r in runs)
rps = med(0)
ratio = "1" if target == "bare" else f"{rps / float(bare):.2f}" if bare else "-"
bad = sum(int(r[4]) for r in runs)
name = {"bare": "bare Vert.x route, NIO", "bare_epoll": "bare Vert.x route, epoll"}.get(target, "gateway")
print(f"| {c} | {conc} | {name} | {rps:,.0f} | {med(1):.2f} | {med(2):.2f} | {ratio} | {med(3):.1f} | {bad} |")
PY
        if [[ $target == bare ]]; then
          bare_rps=$(python3 -c 'import statistics,sys; print(statistics.median(float(r.split()[0]) for r in sys.argv[1].strip(";").split(";")))' "${raw["bare $c $conc"]}")
        fi
      done
    done
  done
  echo
  for c in $classifiers; do
    for conc in $CONCURRENCY; do
      python3 -c '
import statistics, sys
med = lambda raw, i: statistics.median(float(r.split()[i]) for r in raw.strip(";").split(";"))
c, conc, gw, ep = sys.argv[1:5]
print(f"- {c} c={conc}: gateway ÷ epoll bare route {med(gw, 0) / med(ep, 0):.2f} req/s, "
      f"CPU per request {med(gw, 3) / med(ep, 3):.2f}×")' "$c" "$conc" "${raw["gateway $c $conc"]}" "${raw["bare_epoll $c $conc"]}"
    done
  done
} >> "$results"
cat "$results"
