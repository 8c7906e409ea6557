#!/usr/bin/env bash
# This checkout's gateway against an earlier revision's, side by side in one run: each serves its
# own build of the example plugins on its embedded default config; wrk drives iris at concurrency
# C on each in turn (alternating which goes first), ROUNDS rounds of DURATION s after a warm-up
# of each. Prints the medians and new / old, and writes them to bench/results/.
#
#   bench/compare.sh                      # against f690459 (before the runtime/CLI split)
#   REF=<commit> ROUNDS=5 DURATION=10 C=16 bench/compare.sh --no-build
#
# The earlier revision is checked out as a git worktree under bench/target/old-src and built
# there offline (`mvn -o -DskipTests package`); its serving jar is found whichever layout it has.
set -euo pipefail
cd "$(dirname "$0")/.."

REF=${REF:-f690459}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-10}
C=${C:-16}
NEW_PORT=${NEW_PORT:-8241}
OLD_PORT=${OLD_PORT:-8242}
out=bench/target/compare
old=bench/target/old-src
mkdir -p "$out" bench/results

if [[ "${1:-}" != "--no-build" ]]; then
  mvn -q -B -o -DskipTests package
fi
if [[ ! -d "$old" ]] || [[ "$(git -C "$old" rev-parse HEAD)" != "$(git rev-parse "$REF^{commit}")" ]]; then
  git worktree remove --force "$old" 2>/dev/null || rm -rf "$old"
  git worktree prune
  git worktree add --detach "$old" "$REF" > /dev/null
  (cd "$old" && mvn -q -B -o -DskipTests package)
fi
serving_jar() { # the jar that serves, in either layout
  for j in "$1/gateway/runtime/target/mlserver-runtime.jar" "$1/gateway/target/ml_server.jar"; do
    [[ -f "$j" ]] && { echo "$j"; return; }
  done
  echo "no serving jar under $1" >&2; exit 1
}

. bench/lib.sh
start() { # name jar plugins port [more serve options]
  java -jar "$2" serve --port "$4" --plugins-dir "$3" "${@:5}" > "$out/$1.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 240); do
    curl -sf "http://127.0.0.1:$4/health/ready" > /dev/null && return
    sleep 0.5
  done
  echo "$1 not ready"; tail "$out/$1.log"; exit 1
}
start new "$(serving_jar .)" plugins/target/plugins "$NEW_PORT" --grpc-port 0
start old "$(serving_jar "$old")" "$old/plugins/target/plugins" "$OLD_PORT"

body="$out/body.json"
curl -sf "http://127.0.0.1:$NEW_PORT/iris" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["example"]))' > "$body"
for port in "$NEW_PORT" "$OLD_PORT"; do
  curl -sf -XPOST -H 'Content-Type: application/json' --data-binary @"$body" "http://127.0.0.1:$port/iris/predict" | cut -c1-100
  echo
done

run() { # name port seconds tag -> req/s
  BODY_FILE="$body" wrk -t2 -c"$C" -d"${3}s" --latency -s bench/post.lua "http://127.0.0.1:$2/iris/predict" > "$out/wrk-$1-$4.txt"
  if grep -q "Non-2xx\|Socket errors" "$out/wrk-$1-$4.txt"; then echo "errors, see $out/wrk-$1-$4.txt" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$out/wrk-$1-$4.txt"
}
run new "$NEW_PORT" "$WARMUP" warmup > /dev/null
run old "$OLD_PORT" "$WARMUP" warmup > /dev/null
news=(); olds=()
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then n=$(run new "$NEW_PORT" "$DURATION" "$r"); o=$(run old "$OLD_PORT" "$DURATION" "$r")
  else o=$(run old "$OLD_PORT" "$DURATION" "$r"); n=$(run new "$NEW_PORT" "$DURATION" "$r"); fi
  news+=("$n"); olds+=("$o")
  echo "round $r: new $n req/s, old $o req/s"
done
mn=$(median "${news[@]}"); mo=$(median "${olds[@]}")
ratio=$(awk -v n="$mn" -v o="$mo" 'BEGIN {printf "%.3f", n/o}')
stamp=$(date -u +%Y%m%dT%H%M%SZ)
{
  echo "# This gateway against $REF, iris at c=$C, $stamp"
  echo
  echo "- machine: $(nproc) vCPUs, $(uname -sr), $(java -version 2>&1 | head -1); load average before the report: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- code: new $(git rev-parse --short HEAD), old $(git -C "$old" rev-parse --short HEAD)"
  echo "- command: REF=$REF ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP C=$C bench/compare.sh (wrk -t2 -c$C, alternating rounds)"
  echo "- rounds new: ${news[*]}; rounds old: ${olds[*]}"
  echo
  echo "| gateway | c | median req/s | new / old |"
  echo "|---|---|---|---|"
  echo "| old ($REF) | $C | $mo | 1 |"
  echo "| new | $C | $mn | $ratio |"
} | tee "bench/results/compare-$stamp.md"
