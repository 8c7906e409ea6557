#!/usr/bin/env bash
# The generic ONNX classifier against the hand-written iris plugin, in the same run: the example
# iris model (plugins/iris/artifacts/model.onnx) packaged with `ml_server package` as a model-only
# jar (iris-generic) and served beside plugins/target/plugins/iris.jar by one gateway. wrk drives
# each with the same body at concurrency C, alternating, ROUNDS rounds of DURATION s after a
# warm-up of each; the medians and their ratio are printed and written to bench/results/.
#
#   bench/generic.sh                 # after mvn -DskipTests package
#   ROUNDS=5 DURATION=10 C=16 GATEWAY_PORT=8231 bench/generic.sh
set -euo pipefail
cd "$(dirname "$0")/.."

GATEWAY_PORT=${GATEWAY_PORT:-8231}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
C=${C:-16}
out=bench/target/generic
rm -rf "$out" && mkdir -p "$out/plugins" "$out/model" bench/results

# the model-only plugin: the iris model as any user would bring it, no Java
cp plugins/iris/artifacts/model.onnx "$out/model/model.onnx"
cat > "$out/model/mlserver.yaml" <<YAML
name: iris-generic
version: 1.0.0
description: the iris example model, served by the generic ONNX classifier
YAML
java -jar gateway/cli/target/ml_server.jar package "$out/model" --output "$out/plugins/iris-generic.jar" > "$out/package.log"
cp plugins/target/plugins/iris.jar "$out/plugins/iris.jar"

. bench/lib.sh
start_gateway "$out/gateway.log" "$GATEWAY_PORT" --plugins-dir "$out/plugins"

body="$out/body.json"
echo '{"payload": {"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}}' > "$body"
for c in iris iris-generic; do
  answer=$(curl -sf -XPOST -H 'Content-Type: application/json' --data-binary @"$body" "http://127.0.0.1:$GATEWAY_PORT/$c/predict")
  echo "$c: $answer" | cut -c1-120
done

run() { # classifier seconds -> req/s
  BODY_FILE="$body" wrk -t2 -c"$C" -d"${2}s" --latency -s bench/post.lua "http://127.0.0.1:$GATEWAY_PORT/$1/predict" \
    > "$out/wrk-$1-$3.txt"
  grep -q "Non-2xx" "$out/wrk-$1-$3.txt" && { echo "non-2xx answers, see $out/wrk-$1-$3.txt"; exit 1; }
  awk '/Requests\/sec/ {print $2}' "$out/wrk-$1-$3.txt"
}
run iris "$WARMUP" warmup > /dev/null
run iris-generic "$WARMUP" warmup > /dev/null
plugin=(); generic=()
for r in $(seq 1 "$ROUNDS"); do
  # alternate which goes first, so neither always follows the other
  if (( r % 2 )); then p=$(run iris "$DURATION" "$r"); g=$(run iris-generic "$DURATION" "$r")
  else g=$(run iris-generic "$DURATION" "$r"); p=$(run iris "$DURATION" "$r"); fi
  plugin+=("$p"); generic+=("$g")
  echo "round $r: iris $p req/s, iris-generic $g req/s"
done
mp=$(median "${plugin[@]}"); mg=$(median "${generic[@]}")
ratio=$(awk -v g="$mg" -v p="$mp" 'BEGIN {printf "%.3f", g/p}')
stamp=$(date -u +%Y%m%dT%H%M%SZ)
{
  echo "# Generic classifier vs hand-written iris plugin, $stamp"
  echo
  echo "- machine: $(nproc) vCPUs, $(uname -sr), $(java -version 2>&1 | head -1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- code: commit $(git rev-parse --short HEAD)"
  echo "- command: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP C=$C bench/generic.sh (wrk -t2 -c$C, alternating rounds)"
  echo "- rounds iris: ${plugin[*]}; rounds iris-generic: ${generic[*]}"
  echo
  echo "| classifier | c | median req/s | ratio |"
  echo "|---|---|---|---|"
  echo "| iris (hand-written plugin) | $C | $mp | 1 |"
  echo "| iris-generic (generic ONNX classifier) | $C | $mg | $ratio |"
} | tee "bench/results/generic-$stamp.md"
