#!/usr/bin/env bash
# Tail latency of iris with a 100 % shadow against shadow off, on one gateway in one run.
#
#   bench/shadow.sh               # build, then ROUNDS x (off, on), interleaved
#   ROUNDS=3 REQUESTS=60000 bench/shadow.sh --no-build
#
# The gateway (127.0.0.1:$GATEWAY_PORT, default 8231) serves the shipped iris jar and a copy of
# it stamped 1.99.0 (same model: every copy agrees), iris pinned as the default by
# classifiers.iris.default_version. The shadow is switched by the admin routes between rounds
# (PUT / DELETE /admin/classifiers/iris/shadow): one process, one warm JIT, the same load. Each
# round is h2load --h1 (no coordinated-omission correction: the true per-request latency) with
# C connections sending REQUESTS requests of iris's example body; p50/p99/max come from
# h2load's per-request log. Results: bench/results/shadow-<UTC time>.md and stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-60000}
C=${C:-16}
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
java -jar gateway/runtime/target/mlserver-runtime.jar serve --config "$out/gateway.yaml" --port "$GATEWAY_PORT" \
  --plugins-dir "$out/plugins" > "$out/gateway.log" 2>&1 &
pids+=("$!")
base="http://127.0.0.1:$GATEWAY_PORT"
for _ in $(seq 1 120); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.5; done
curl -sf "$base/health/ready" >/dev/null || { echo "gateway not ready"; tail "$out/gateway.log"; exit 1; }
curl -sf "$base/iris" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["example"]))' > "$out/body.json"

shadow() {
  if [[ $1 == on ]]; then
    curl -sf -X PUT -H 'Content-Type: application/json' -d '{"version": "1.99.0", "sample": 100}' \
      "$base/admin/classifiers/iris/shadow" > /dev/null
  else
    curl -sf -X DELETE "$base/admin/classifiers/iris/shadow" > /dev/null
  fi
}

# round MODE N -> "p50_ms p99_ms max_ms req/s non2xx"
round() {
  local log="$out/h2load-$1.log" report
  rm -f "$log"
  report=$(h2load --h1 -n "$2" -c "$C" -d "$out/body.json" -H 'Content-Type: application/json' \
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
{
  echo "# iris p99 with a 100 % shadow against shadow off, $stamp"
  echo
  echo "- machine: $(nproc) vCPUs, $(uname -r), $(java -version 2>&1 | head -1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- code: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with local changes)')"
  echo "- command: ROUNDS=$ROUNDS REQUESTS=$REQUESTS C=$C bench/shadow.sh; h2load --h1 -n $REQUESTS -c $C"
  echo
  echo "| round | shadow | p50 ms | p99 ms | max ms | req/s | non-2xx |"
  echo "|---|---|---|---|---|---|---|"
} | tee "$results"
for r in $(seq 1 "$ROUNDS"); do
  for mode in off on; do
    shadow "$mode"
    echo "| $r | $mode | $(round "$mode" "$REQUESTS" | tr ' ' '|' | sed 's/|/ | /g') |" | tee -a "$results"
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
rows = [l.split("|") for l in open(sys.argv[1]) if l.startswith("| ") and l.split("|")[2].strip() in ("on", "off")]
p99 = {m: statistics.median(float(r[4]) for r in rows if r[2].strip() == m) for m in ("off", "on")}
print(f"\nmedian p99: off {p99['off']:.3f} ms, on {p99['on']:.3f} ms, ratio on/off {p99['on'] / p99['off']:.2f}"
      f" (target <= 1.2); load average after: {open('/proc/loadavg').read().split()[:3]}")
PY
