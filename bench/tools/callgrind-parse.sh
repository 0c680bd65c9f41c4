#!/usr/bin/env bash
# Instructions per pass of the parser over each workload of callgrind-parse.mjs, for one or more
# @stompede/core builds: callgrind runs N and 2N passes, and the difference of the two totals
# divided by N is the steady-state cost of one pass (start-up and fixture building cancel out).
# node runs --predictable (single-threaded, no time-based heuristics): counts repeat within 0.01%.
#
# Usage: bench/tools/callgrind-parse.sh "DIST_DIR..." [WORKLOAD...] (env PASSES, default 10)
#   e.g. cp -r packages/core/dist /tmp/core-before && npx tsc --build packages/core &&
#        bench/tools/callgrind-parse.sh "/tmp/core-before packages/core/dist" small 64KiB
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dirs=$1
shift
workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(small small-decoded small-split escaped v10 nolength 64KiB 1MiB)
passes=${PASSES:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total() {
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" node --predictable \
    "$here/callgrind-parse.mjs" "$1" "$2" "$3" >/dev/null 2>"$out/log"
  grep -o 'Collected : [0-9]*' "$out/log" | grep -o '[0-9]*$'
}
printf '%-14s %-28s %16s\n' workload build 'instr/pass'
for w in "${workloads[@]}"; do
  for d in $dirs; do
    a=$(total "$d" "$w" "$passes")
    b=$(total "$d" "$w" $((passes * 2)))
    printf '%-14s %-28s %16d\n' "$w" "$d" $(((b - a) / passes))
  done
done
