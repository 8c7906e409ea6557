#!/usr/bin/env bash
# The first seconds after readiness on the Open Inference Protocol's routes: v2 REST
# (POST /v2/models/iris/infer) and gRPC ModelInfer, each against the same gateway's next seconds,
# with the warm-up as shipped and with it off, in one run.
#
#   bench/first10s-protocols.sh                        # build, then ROUNDS x (each protocol x warm-up on, off)
#   ROUNDS=2 DURATION=10 C=16 bench/first10s-protocols.sh --no-build
#   ROUNDS=1 DURATION=2 bench/first10s-protocols.sh --no-build    # check the script
#
# Per start: a fresh gateway JVM serving the iris jar only (default config; with the warm-up off,
# `warmup.requests: 0`), polled on /health/ready every 50 ms; from the moment it answers 200,
# h2load drives the route for DURATION s ("first"), then DURATION s more ("next"), C connections
# of one request in flight each (HTTP/1.1 keep-alive for REST, HTTP/2 without TLS for gRPC), with
# nothing else touching the gateway. ratio = first req/s / next req/s of the same start: how near
# the route's first seconds come to what the same process serves once it has run for a while.
# Every answer is checked against the gateway's own counters (a gRPC error is HTTP 200 to
# h2load). Results: bench/results/first10s-protocols-<UTC time>.md and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
C=${C:-16}
GATEWAY_PORT=${GATEWAY_PORT:-8281}
GRPC_PORT=${GRPC_PORT:-8282}
PROTOCOLS=${PROTOCOLS:-"v2-rest v2-grpc"}
out=bench/target/first10s-protocols
mkdir -p "$out/plugins" "$out/h2load" bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results/first10s-protocols-$stamp.md

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -q -B -o -DskipTests package
fi
rm -f "$out/plugins"/*.jar
cp plugins/target/plugins/iris.jar "$out/plugins/iris.jar"
printf 'warmup:\n  requests: 0\n' > "$out/no-warmup.yaml"

. bench/lib.sh
base="http://127.0.0.1:$GATEWAY_PORT"
serve=(--grpc-port "$GRPC_PORT" --plugins-dir "$out/plugins")

# drive PROTOCOL SECONDS TAG -> req/s; refuses a run with errors
drive() {
  local protocol=$1 secs=$2 tag=$3 args report ok_before other_before ok_after other_after
  case $protocol in
    v2-rest) args=(--h1 -t 2 -d "$out/v2.json" -H 'Content-Type: application/json' "$base/v2/models/iris/infer") ;;
    v2-grpc) args=(-t 2 -d "$out/grpc.bin" -H 'content-type: application/grpc' -H 'te: trailers'
                   "http://127.0.0.1:$GRPC_PORT/inference.GRPCInferenceService/ModelInfer") ;;
    *) echo "unknown protocol $protocol" >&2; exit 1 ;;
  esac
  read -r ok_before other_before < <(answered "$base" "$protocol")
  report=$(h2load -c "$C" -m 1 -D "$secs" "${args[@]}")
  read -r ok_after other_after < <(answered "$base" "$protocol")
  echo "$report" > "$out/h2load/$tag.txt"
  python3 - "$out/h2load/$tag.txt" "$(( ok_after - ok_before ))" "$(( other_after - other_before ))" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
ok, other = int(sys.argv[2]), int(sys.argv[3])
rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", text).group(1))
done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", text)
failed = int(done.group(3)) + int(done.group(4)) + other + max(0, int(done.group(2)) - ok)
if failed:
    sys.exit(f"{failed} failed requests in {sys.argv[1]}")
print(f"{rps:.0f}")
PY
}

# A first start only to learn iris's example and write its bodies.
start_gateway "$out/gateway-0.log" "$GATEWAY_PORT" --config="$out/no-warmup.yaml" "${serve[@]}"
curl -sf "$base/iris" > "$out/iris.json"
stop_gateway
python3 bench/iris_bodies.py "$out"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

rows=()
for r in $(seq 1 "$ROUNDS"); do
  for protocol in $PROTOCOLS; do
    for warmup in on off; do
      config=()
      [[ $warmup == off ]] && config=(--config="$out/no-warmup.yaml")
      start_gateway "$out/gateway-$r-$protocol-$warmup.log" "$GATEWAY_PORT" "${config[@]}" "${serve[@]}"
      ready=$ready_s
      first=$(drive "$protocol" "$DURATION" "$r-$protocol-$warmup-first")
      next=$(drive "$protocol" "$DURATION" "$r-$protocol-$warmup-next")
      stop_gateway
      ratio=$(awk -v a="$first" -v b="$next" 'BEGIN {printf "%.2f", a / b}')
      echo "round $r $protocol, warm-up $warmup: ready after $ready s; first $first req/s, next $next req/s; ratio $ratio" >&2
      rows+=("$protocol $warmup $r $ready $first $next $ratio")
    done
  done
done

{
  echo "# First ${DURATION} s after readiness on the Open Inference Protocol's routes, iris at c=$C, $stamp"
  echo
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GB RAM, $(uname -r)"
  echo "- java: $(java -version 2>&1 | head -1); $(h2load --version | head -1)"
  echo "- code: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- gateway plugin-api plugins config || echo ' (with local changes)')"
  echo "- command: ROUNDS=$ROUNDS DURATION=$DURATION C=$C PROTOCOLS=\"$PROTOCOLS\" bench/first10s-protocols.sh"
  echo "- gateway: default config, the iris jar only; warm-up off: \`warmup.requests: 0\`"
  echo "- load before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Per start, a fresh gateway JVM, driven from the moment /health/ready answered: the first"
  echo "${DURATION} s, then the next ${DURATION} s; ratio = first / next req/s of the same start. Medians per"
  echo "protocol and warm-up; every answer was a success by the gateway's own counters."
  echo
  echo "| protocol | warm-up | starts | ready after s | first ${DURATION} s req/s | next ${DURATION} s req/s | first ÷ next | per start |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}" | python3 -c '
import statistics, sys
rows = [l.split() for l in sys.stdin if l.strip()]
for protocol in dict.fromkeys(r[0] for r in rows):
    for warmup in ("on", "off"):
        mine = [r for r in rows if r[0] == protocol and r[1] == warmup]
        if not mine:
            continue
        m = lambda i: statistics.median(float(r[i]) for r in mine)
        label = {"v2-rest": "v2 REST", "v2-grpc": "v2 gRPC"}.get(protocol, protocol)
        print(f"| {label} | {warmup} | {len(mine)} | {m(3):.1f} | {m(4):,.0f} | {m(5):,.0f} | **{m(6):.2f}** | "
              + ", ".join(r[6] for r in mine) + " |")'
} > "$results"
cat "$results"
