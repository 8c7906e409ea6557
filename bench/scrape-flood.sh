#!/usr/bin/env bash
# What a client scraping /metrics without pause takes from predictions: one gateway with the
# example family; wrk drives iris predictions at concurrency C alone, then beside a second wrk
# asking for /metrics on SCRAPERS connections, alternating, ROUNDS rounds of DURATION s after a
# warm-up. Prints the medians and their ratio (predictions beside the flood / alone), and writes
# them to bench/results/.
#
#   bench/scrape-flood.sh            # after mvn -DskipTests package
#   ROUNDS=5 DURATION=10 C=4 SCRAPERS=16 GATEWAY_PORT=8241 bench/scrape-flood.sh
set -euo pipefail
cd "$(dirname "$0")/.."

GATEWAY_PORT=${GATEWAY_PORT:-8241}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
C=${C:-4}
SCRAPERS=${SCRAPERS:-16}
out=bench/target/scrape-flood
rm -rf "$out" && mkdir -p "$out" bench/results

. bench/lib.sh
start_gateway "$out/gateway.log" "$GATEWAY_PORT" --grpc-port 0 --plugins-dir plugins/target/plugins

base="http://127.0.0.1:$GATEWAY_PORT"
body="$out/body.json"
echo '{"payload": {"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}}' > "$body"
curl -sf -XPOST -H 'Content-Type: application/json' --data-binary @"$body" "$base/iris/predict" | cut -c1-80

predict() { # seconds label -> "req/s p50"
  BODY_FILE="$body" wrk -t1 -c"$C" -d"${1}s" --latency -s bench/post.lua "$base/iris/predict" > "$out/predict-$2.txt"
  grep -q "Non-2xx" "$out/predict-$2.txt" && { echo "non-2xx answers, see $out/predict-$2.txt" >&2; exit 1; }
  awk '/Requests\/sec/ {r=$2} $1=="50%" {p=$2} END {print r, p}' "$out/predict-$2.txt"
}
flooded() { # seconds label -> "req/s p50" of the predictions, with /metrics asked for beside them
  wrk -t1 -c"$SCRAPERS" -d"$(( $1 + 2 ))s" "$base/metrics" > "$out/scrape-$2.txt" &
  local w=$!
  sleep 1
  predict "$1" "$2-flooded"
  wait "$w"
  grep -q "Non-2xx" "$out/scrape-$2.txt" && { echo "non-2xx scrapes, see $out/scrape-$2.txt" >&2; exit 1; }
  return 0
}
predict "$WARMUP" warmup > /dev/null
alone=(); beside=(); scrapes=(); p50a=(); p50b=()
for r in $(seq 1 "$ROUNDS"); do
  read -r a pa <<< "$(predict "$DURATION" "$r")"
  read -r b pb <<< "$(flooded "$DURATION" "$r")"
  s=$(awk '/Requests\/sec/ {print $2}' "$out/scrape-$r.txt")
  alone+=("$a"); beside+=("$b"); scrapes+=("$s"); p50a+=("$pa"); p50b+=("$pb")
  echo "round $r: predictions alone $a req/s (p50 $pa), beside the flood $b req/s (p50 $pb); $s scrapes/s answered"
done
ma=$(median "${alone[@]}"); mb=$(median "${beside[@]}"); ms=$(median "${scrapes[@]}")
ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", b/a}')
stamp=$(date -u +%Y%m%dT%H%M%SZ)
{
  echo "# Predictions beside a /metrics flood, $stamp"
  echo
  echo "- machine: $(nproc) vCPUs, $(uname -sr), $(java -version 2>&1 | head -1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- code: commit $(git rev-parse --short HEAD); the example family (plugins/target/plugins)"
  echo "- command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP C=$C SCRAPERS=$SCRAPERS bench/scrape-flood.sh"
  echo "- rounds alone: ${alone[*]} (p50 ${p50a[*]}); beside the flood: ${beside[*]} (p50 ${p50b[*]}); scrapes/s: ${scrapes[*]}"
  echo
  echo "| iris predictions, wrk -c$C | median req/s | ratio |"
  echo "|---|---|---|"
  echo "| alone | $ma | 1 |"
  echo "| beside $SCRAPERS connections asking for /metrics without pause ($ms scrapes/s answered) | $mb | $ratio |"
} | tee "bench/results/scrape-flood-$stamp.md"
