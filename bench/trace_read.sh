#!/usr/bin/env bash
# bench/trace_read.sh [FLEETSIM] [ROWS] - read throughput and peak memory of the
# generic CSV reader on a generated trace (default 10 M rows, written to /tmp).
#
# Times `fleetsim trace stats --no-quantiles`, which streams: counts, means, maxima,
# peak rate and the <=2K..64K shares need O(1) memory, so peak RSS is the reader's
# (4 MiB line buffer + 256 KiB raw buffer) plus the binary.  Quantiles would keep
# 12 bytes per request, which is why they are off here.
# Needs /usr/bin/time (Debian/Ubuntu package `time`).
set -euo pipefail
bin=${1:-build/fleetsim}
rows=${2:-10000000}
f=/tmp/fleetsim_bench_${rows}.csv
if [ ! -s "$f" ]; then
	echo "generating $rows rows into $f ..."
	awk -v n="$rows" 'BEGIN {
		print "arrival_s,input_tokens,output_tokens"
		srand(1); t = 0
		for (i = 0; i < n; i++) {
			t += 0.001 + (i % 7) * 0.0001
			printf "%.6f,%d,%d\n", t, 1 + int(rand() * 8000), 1 + int(rand() * 500)
		}
	}' > "$f"
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
log=$(mktemp)
/usr/bin/time -v "$bin" trace stats --no-quantiles "$f" > /dev/null 2> "$log"
secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
awk -v r="$rows" -v s="$secs" -v k="$rss" -v b="$(stat -c %s "$f")" 'BEGIN {
	printf "rows: %d  bytes: %.0f MiB  wall: %.2f s  rows/s: %.2f M  MB/s: %.0f  peak RSS: %.1f MiB\n",
	       r, b / 1048576, s, r / s / 1e6, b / s / 1e6, k / 1024 }'
rm -f "$log"
