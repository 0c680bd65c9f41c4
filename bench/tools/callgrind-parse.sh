#!/usr/bin/env bash
# Instructions per pass of the parser over each workload of callgrind-parse.mjs, for one or more
# @stompede/core builds. Each measured pass is counted alone (callgrind zeroes before it and dumps
# after it, see callgrind-parse.mjs), after WARMUP passes and from an empty young generation; node
# runs --predictable, so passes repeat their count. Printed per workload and build: the median of
# the PASSES passes, per pass and per frame; the mean per pass (with the odd major GC or
# re-optimization amortized); and how many passes were within 0.1% of the median.
#
# Usage: bench/tools/callgrind-parse.sh "DIST_DIR..." [WORKLOAD...]   (env WARMUP=8, PASSES=9)
#   e.g. cp -r packages/core/dist /tmp/core-before && npx tsc --build packages/core &&
#        bench/tools/callgrind-parse.sh "/tmp/core-before packages/core/dist" small 64KiB
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dirs=$1
shift
workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(small small-decoded small-split escaped v10 nolength \
  4KiB 4KiB-joined 64KiB 64KiB-joined 1MiB 1MiB-joined)
warmup=${WARMUP:-8}
passes=${PASSES:-9}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-13s %-22s %12s %11s %12s %7s\n' workload build 'median/pass' 'median/frame' 'mean/pass' settled
for w in "${workloads[@]}"; do
  for d in $dirs; do
    rm -f "$out"/cg*
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" \
      --zero-before='node::CPUUsage*' --dump-before='node::MemoryUsage*' \
      node --predictable --expose-gc "$here/callgrind-parse.mjs" "$d" "$w" "$warmup" "$passes" \
      >"$out/stdout" 2>"$out/log" || { tail -20 "$out/log"; exit 1; }
    frames=$(awk '{ print $(NF - 2) }' "$out/stdout")
    # The dumps cg.1 .. cg.PASSES are the passes (cg itself is the rest of the run).
    for ((i = 1; i <= passes; i++)); do grep -m1 '^summary:' "$out/cg.$i" | awk '{ print $2 }'; done |
      sort -n | awk -v w="$w" -v d="$d" -v f="$frames" '
        { v[NR] = $1; sum += $1 }
        END {
          m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
          for (i = 1; i <= NR; i++) if (v[i] >= m * 0.999 && v[i] <= m * 1.001) near++
          printf "%-13s %-22s %12d %11.0f %12d %4d/%d\n", w, d, m, m / f, sum / NR, near, NR
        }'
  done
done
