#!/usr/bin/env bash
# Tail latency of iris with a 100 % shadow against shadow off, on one gateway in one run, at a
# fixed request rate (the target) and at saturation (for the record).
#
#   bench/shadow.sh               # build, then ROUNDS x (paced off, paced on, saturated off, saturated on)
#   ROUNDS=3 REQUESTS=60000 LOAD_SHARE=50 bench/shadow.sh --no-build
#
# The gateway (127.0.0.1:$GATEWAY_PORT, default 8231) serves the shipped iris jar and a copy of
# it stamped 1.99.0 (same model: every copy agrees), iris pinned as the default by
# classifiers.iris.default_version. The shadow is switched by the admin routes between rounds
# (PUT / DELETE /admin/classifiers/iris/shadow): one process, one warm JIT, the same load.
#
# Two kinds of round, both h2load --h1 with C connections of one request in flight each and
# iris's example body; p50/p99/max come from h2load's per-request log (no coordinated-omission
# correction: the true per-request latency):
# - paced: every connection sends at a fixed rate, together LOAD_SHARE % (default 50) of the
#   req/s measured with the shadow off at saturation just before, for PACED_SECONDS (default
#   10). This is the latency a caller sees at a given traffic when a shadow is switched on, and
#   the figure the target is about.
# - saturated: REQUESTS requests as fast as the connections go. With the shadow on, the machine
#   does a second prediction per request, so here p99 also carries the lost capacity.
# Results: bench/results/shadow-<UTC time>.md and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-60000}
C=${C:-16}
LOAD_SHARE=${LOAD_SHARE:-50}
PACED_SECONDS=${PACED_SECONDS:-10}
GATEWAY_PORT=${GATEWAY_PORT:-8231}
out=bench/target/shadow
mkdir -p "$out/plugins" bench/results
stamp=$(date -u +%Y%m%dT%H%M%SZ)
results=bench/results/shadow-$stamp.md

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -q -B -o -DskipTests package
fi
rm -f "$out/plugins"/*.jar
cp plugins/target/plugins/iris.jar "$out/plugins/iris.jar"
shipped=$(unzip -p "$out/plugins/iris.jar" META-INF/MANIFEST.MF | tr -d '\r' | sed -n 's/^Plugin-Version: //p')
python3 - "$out/plugins/iris.jar" "$out/plugins/iris-1.99.0.jar" <<'PY'
import re, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        data = zin.read(item.filename)
        if item.filename == "META-INF/MANIFEST.MF":
            data = re.sub(rb"Plugin-Version: [^\r\n]+", b"Plugin-Version: 1.99.0", data)
        zout.writestr(item, data)
PY
cat > "$out/gateway.yaml" <<YAML
plugins:
  watch: false
admin:
  enabled: true
classifiers:
  iris:
    default_version: "$shipped"
YAML

. bench/lib.sh
start_gateway "$out/gateway.log" "$GATEWAY_PORT" --config "$out/gateway.yaml" --plugins-dir "$out/plugins"
base="http://127.0.0.1:$GATEWAY_PORT"
curl -sf "$base/iris" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["example"]))' > "$out/body.json"

shadow() {
  if [[ $1 == on ]]; then
    curl -sf -X PUT -H 'Content-Type: application/json' -d '{"version": "1.99.0", "sample": 100}' \
      "$base/admin/classifiers/iris/shadow" > /dev/null
  else
    curl -sf -X DELETE "$base/admin/classifiers/iris/shadow" > /dev/null
  fi
}

# round MODE N [RPS per connection] -> "p50_ms p99_ms max_ms req/s non2xx"
round() {
  local log="$out/h2load-$1.log" report pace=()
  [[ -n "${3:-}" ]] && pace=(--rps "$3")
  rm -f "$log"
  report=$(h2load --h1 -n "$2" -c "$C" "${pace[@]}" -d "$out/body.json" -H 'Content-Type: application/json' \
    --log-file="$log" "$base/iris/predict")
  local rps non2xx
  rps=$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$report")
  non2xx=$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$report")
  python3 - "$log" "$rps" "$(( $2 - non2xx ))" <<'PY'
import sys
lat = sorted(int(line.split()[2]) for line in open(sys.argv[1]) if line.strip())
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1000
print(f"{q(0.50):.3f} {q(0.99):.3f} {lat[-1] / 1000:.3f} {float(sys.argv[2]):.0f} {sys.argv[3]}")
PY
}

echo "warm-up"; shadow on; round warm "$REQUESTS" > /dev/null; shadow off; round warm "$REQUESTS" > /dev/null
capacity=$(round capacity "$REQUESTS" | cut -d' ' -f4)
per_connection=$(( capacity * LOAD_SHARE / 100 / C ))
paced_requests=$(( per_connection * C * PACED_SECONDS ))
{
  echo "# iris p99 with a 100 % shadow against shadow off, $stamp"
  echo
  echo "- machine: $(nproc) vCPUs, $(uname -r), $(java -version 2>&1 | head -1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- code: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
  echo "- command: ROUNDS=$ROUNDS REQUESTS=$REQUESTS LOAD_SHARE=$LOAD_SHARE PACED_SECONDS=$PACED_SECONDS C=$C bench/shadow.sh"
  echo "- capacity with the shadow off: $capacity req/s (h2load --h1 -n $REQUESTS -c $C); paced rounds: $LOAD_SHARE % of it,"
  echo "  h2load --h1 -n $paced_requests -c $C --rps $per_connection ($(( per_connection * C )) req/s offered)"
  echo
  echo "| round | load | shadow | p50 ms | p99 ms | max ms | req/s | non-2xx |"
  echo "|---|---|---|---|---|---|---|---|"
} | tee "$results"
for r in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    shadow "$mode"
    echo "| $r | paced | $mode | $(round "$mode" "$paced_requests" "$per_connection" | tr ' ' '|' | sed 's/|/ | /g') |" | tee -a "$results"
  done
  for mode in off on; do
    shadow "$mode"
    echo "| $r | saturated | $mode | $(round "$mode" "$REQUESTS" | tr ' ' '|' | sed 's/|/ | /g') |" | tee -a "$results"
  done
done
shadow off
curl -sf "$base/status" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["shadows"]:
    print("\nshadow comparisons {primary} vs {shadow}: agree {agree}, disagree {disagree}, error {error},"
          " dropped {dropped}, agreement rate {agreement_rate}".format(**s))' | tee -a "$results"
python3 - "$results" <<'PY' | tee -a "$results"
import statistics, sys
rows = [[c.strip() for c in l.split("|")] for l in open(sys.argv[1]) if l.startswith("| ") and l.split("|")[3].strip() in ("on", "off")]
p99 = {(load, m): statistics.median(float(r[5]) for r in rows if r[2] == load and r[3] == m)
       for load in ("paced", "saturated") for m in ("off", "on")}
for load in ("paced", "saturated"):
    ratio = p99[(load, "on")] / p99[(load, "off")]
    target = " (target <= 1.2)" if load == "paced" else " (for the record)"
    print(f"\n{load}: median p99 off {p99[(load, 'off')]:.3f} ms, on {p99[(load, 'on')]:.3f} ms, ratio on/off {ratio:.2f}{target}")
print(f"\nload average after: {open('/proc/loadavg').read().split()[:3]}")
PY
