#!/usr/bin/env bash
# iris over the three protocols of one gateway, in one run: native POST /iris/predict, Open
# Inference Protocol REST POST /v2/models/iris/infer, and gRPC ModelInfer.
#
#   bench/oip.sh                  # build, then ROUNDS x (native, v2-rest, each gRPC shape), interleaved
#   ROUNDS=1 DURATION=3 WARMUP=2 bench/oip.sh --no-build     # a smoke run of the script
#
# One gateway as shipped (config/gateway.yaml: JSON access lines to a file, metrics, bulkheads)
# serves the iris jar only, on 127.0.0.1:$GATEWAY_PORT (default 8251) and its gRPC port
# $GRPC_PORT (default 8252). Every route gets the same instance (iris's advertised example) and
# answers the same thing, its label: the v2 requests ask for the `label` output only, as
# /iris/predict gives. One load generator for all three, h2load: HTTP/1.1 keep-alive (--h1) for
# the REST routes, HTTP/2 without TLS for gRPC (application/grpc, the request message in its
# 5-byte frame), C connections (default 16) of one request in flight each, 2 threads. gRPC is
# driven in three shapes of the same C calls in flight (GRPC_SHAPES, connections x calls each):
# Cx1, so; C/4 x 4; 1xC. gRPC clients multiplex concurrent calls on few connections: a grpc-java
# or grpc-go channel shares one HTTP/2 connection among its calls, and Triton's C++ client shares
# each cached channel among several client objects by default. Rounds
# interleave the routes; the table holds medians, p50/p99 from h2load's per-request log (no
# coordinated-omission correction) and each route's ratio to native req/s in the same round.
# h2load counts HTTP statuses, and a gRPC error is HTTP 200 with grpc-status in the trailers, so
# each run is also checked against the gateway's own mlserver_requests_total by protocol and
# status: an answer counted with another status than 200, or a success h2load saw that the
# gateway did not count as a 200, is an error in the table.
# Results: bench/results/oip-<UTC time>.md and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
C=${C:-16}
GATEWAY_PORT=${GATEWAY_PORT:-8251}
GRPC_PORT=${GRPC_PORT:-8252}
out=bench/target/oip
mkdir -p "$out/plugins" "$out/h2load" bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results/oip-$stamp.md

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -q -B -o -DskipTests package
fi
rm -f "$out/plugins"/*.jar
cp plugins/target/plugins/iris.jar "$out/plugins/iris.jar"

. bench/lib.sh
start_gateway "$out/gateway.log" "$GATEWAY_PORT" --grpc-port "$GRPC_PORT" --plugins-dir "$out/plugins"
base="http://127.0.0.1:$GATEWAY_PORT"

# The three bodies, from iris's advertised example: the native body as it is, and its one
# instance as a [1, 4] FP32 tensor for v2 REST and for gRPC (bench/iris_bodies.py).
curl -sf "$base/iris" > "$out/iris.json"
python3 bench/iris_bodies.py "$out"

# Each body answered once, the same label on every route, before any load.
native_label=$(curl -sf -H 'Content-Type: application/json' --data-binary @"$out/native.json" "$base/iris/predict" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["predictions"][0])')
rest_label=$(curl -sf -H 'Content-Type: application/json' --data-binary @"$out/v2.json" "$base/v2/models/iris/infer" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["outputs"][0]["data"][0])')
curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' -D "$out/grpc.headers" \
  --data-binary @"$out/grpc.bin" -o "$out/grpc.answer" "http://127.0.0.1:$GRPC_PORT/inference.GRPCInferenceService/ModelInfer"
grep -qi '^grpc-status: 0' "$out/grpc.headers" || { echo "gRPC ModelInfer failed:"; cat "$out/grpc.headers"; exit 1; }
grep -q "$native_label" "$out/grpc.answer" || { echo "gRPC answered another label than $native_label"; exit 1; }
[[ "$native_label" == "$rest_label" ]] || { echo "native $native_label, v2 REST $rest_label"; exit 1; }


# run ROUTE SECONDS -> "req/s p50_ms p99_ms errors"
run() {
  local route=$1 secs=$2 protocol log="$out/h2load/$1.log" report args
  case $route in
    native) protocol=native; args=(--h1 -d "$out/native.json" -H 'Content-Type: application/json' "$base/iris/predict") ;;
    v2-rest) protocol=v2-rest; args=(--h1 -d "$out/v2.json" -H 'Content-Type: application/json' "$base/v2/models/iris/infer") ;;
    v2-grpc-*) protocol=v2-grpc; args=(-d "$out/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers'
                                     "http://127.0.0.1:$GRPC_PORT/inference.GRPCInferenceService/ModelInfer") ;;
  esac
  # C connections of one request each; v2-grpc-<connections>x<calls>: that many calls in flight as
  # streams of each connection
  local shape=(-t 2 -c "$C" -m 1)
  if [[ $route == v2-grpc-* ]]; then
    local conns=${route#v2-grpc-}; conns=${conns%x*}
    shape=(-t $(( conns < 2 ? conns : 2 )) -c "$conns" -m "${route##*x}")
  fi
  rm -f "$log"
  read -r ok_before other_before < <(answered "$base" "$protocol")
  report=$(h2load "${shape[@]}" -D "$secs" --log-file="$log" "${args[@]}")
  read -r ok_after other_after < <(answered "$base" "$protocol")
  local saved="$out/h2load/$route-$(date +%s%N).txt"
  echo "$report" > "$saved"
  python3 - "$saved" "$log" "$(( ok_after - ok_before ))" "$(( other_after - other_before ))" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
log, ok, other = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text).group(1))
done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", text)
latencies = sorted(int(line.split()[2]) / 1000.0 for line in open(log) if line.strip())
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
# an answer h2load took for a success that the gateway did not count as a 200 (a gRPC error is HTTP 200)
failed = int(done.group(3)) + int(done.group(4)) + other + max(0, int(done.group(2)) - ok)
print(f"{rps:.0f} {p(0.5):.3f} {p(0.99):.3f} {failed}")
PY
}

{
  echo "# Open Inference Protocol benchmark run $stamp"
  echo
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GB RAM, $(uname -r)"
  echo "- java: $(java -version 2>&1 | head -1); $(h2load --version | head -1)"
  echo "- code: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- gateway plugin-api plugins || echo ' (with local changes)')"
  echo "- command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP C=$C bench/oip.sh"
  echo "- load before: $(cut -d' ' -f1-3 /proc/loadavg); busiest other processes: $(ps -eo pcpu=,comm= --sort=-pcpu | grep -v -E 'h2load|ps$' | head -5 | awk '{printf "%s %s%%; ", $2, $1}')"
} > "$results"

# gRPC shapes, connections x calls each: C calls in flight in all of them
GRPC_SHAPES=${GRPC_SHAPES:-"${C}x1 $(( C / 4 ))x4 1x${C}"}
routes="native v2-rest"
for shape in $GRPC_SHAPES; do
  (( ${shape%x*} * ${shape#*x} == C )) || { echo "gRPC shape $shape does not hold C=$C calls"; exit 1; }
  routes+=" v2-grpc-$shape"
done
echo "warming up ($WARMUP s per route)" >&2
for route in $routes; do run "$route" "$WARMUP" >/dev/null; done

declare -A raw
for round in $(seq 1 "$ROUNDS"); do
  for route in $routes; do
    line=$(run "$route" "$DURATION")
    echo "round $round $route: $line" >&2
    raw["$route"]+="$line;"
  done
done

{
  echo "- load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Medians over $ROUNDS round(s) of ${DURATION} s at c=$C; ratio = the route's req/s / native req/s, per round, then"
  echo "the median; errors = requests h2load saw fail plus answers other than 200 in mlserver_requests_total."
  echo
  echo "| route | req/s | p50 ms | p99 ms | ratio to native | rounds (req/s) | errors |"
  echo "|---|---|---|---|---|---|---|"
  for route in $routes; do
    python3 - "$route" "${raw[$route]}" "${raw[native]}" <<'PY'
import statistics, sys
route, raw, native = sys.argv[1], sys.argv[2], sys.argv[3]
runs = [r.split() for r in raw.strip(";").split(";")]
base = [float(r.split()[0]) for r in native.strip(";").split(";")]
med = lambda i: statistics.median(float(r[i]) for r in runs)
ratios = [float(r[0]) / b for r, b in zip(runs, base)]
label = {"native": "native POST /iris/predict", "v2-rest": "v2 REST POST /v2/models/iris/infer",
         }.get(route)
if label is None:
    conns, calls = route.removeprefix("v2-grpc-").split("x")
    label = (f"v2 gRPC ModelInfer, {conns} connection{'s' if conns != '1' else ''} x {calls} "
             f"call{'s' if calls != '1' else ''}")
rounds = " / ".join(f"{float(r[0]):,.0f}" for r in runs)
print(f"| {label} | {med(0):,.0f} | {med(1):.2f} | {med(2):.2f} | {statistics.median(ratios):.2f} | {rounds} | "
      f"{sum(int(r[3]) for r in runs)} |")
PY
  done
} >> "$results"
cat "$results"
