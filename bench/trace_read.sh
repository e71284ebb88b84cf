#!/usr/bin/env bash
# bench/trace_read.sh [FLEETSIM] [ROWS] - read throughput and peak memory of the
# generic CSV reader on a generated trace (default 10 M rows, written to /tmp), in two
# cases:
#   plain   arrival_s,input_tokens,output_tokens with relative seconds (the generic
#           header, no options);
#   mapped  timestamp,prompt_len,completion_len,request_id with epoch seconds, read
#           with --columns arrival=timestamp,input=prompt_len,output=completion_len
#           (custom names, an ignored column, unit detection and re-basing).
# Both must stay >= 5 M rows/s (docs/traces.md).
#
# Times `fleetsim trace stats --no-quantiles`, which streams: counts, means, maxima,
# peak rate and the <=2K..64K shares need O(1) memory, so peak RSS is the reader's
# (4 MiB line buffer + 256 KiB raw buffer) plus the binary.  Quantiles would keep
# 12 bytes per request, which is why they are off here.
# Needs /usr/bin/time (Debian/Ubuntu package `time`).  Build with
# -DCMAKE_BUILD_TYPE=Release for meaningful figures.
set -euo pipefail
bin=${1:-build/fleetsim}
rows=${2:-10000000}
plain=/tmp/fleetsim_bench_${rows}.csv
mapped=/tmp/fleetsim_bench_mapped_${rows}.csv
if [ ! -s "$plain" ]; then
	echo "generating $rows rows into $plain ..."
	awk -v n="$rows" 'BEGIN {
		print "arrival_s,input_tokens,output_tokens"
		srand(1); t = 0
		for (i = 0; i < n; i++) {
			t += 0.001 + (i % 7) * 0.0001
			printf "%.6f,%d,%d\n", t, 1 + int(rand() * 8000), 1 + int(rand() * 500)
		}
	}' > "$plain"
fi
if [ ! -s "$mapped" ]; then
	echo "generating $rows rows into $mapped ..."
	awk -v n="$rows" 'BEGIN {
		print "timestamp,prompt_len,completion_len,request_id"
		srand(1); t = 0
		for (i = 0; i < n; i++) {
			t += 0.001 + (i % 7) * 0.0001
			printf "%.6f,%d,%d,req-%d\n", 1741080000 + t, 1 + int(rand() * 8000), 1 + int(rand() * 500), i
		}
	}' > "$mapped"
fi
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
measure() { # label file [options]
	local label=$1 f=$2
	shift 2
	/usr/bin/time -v "$bin" trace stats --no-quantiles "$@" "$f" > /dev/null 2> "$log"
	local secs rss
	secs=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
	rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
	awk -v l="$label" -v r="$rows" -v s="$secs" -v k="$rss" -v b="$(stat -c %s "$f")" 'BEGIN {
		printf "%-7s rows: %d  bytes: %.0f MiB  wall: %.2f s  rows/s: %.2f M  MB/s: %.0f  peak RSS: %.1f MiB\n",
		       l, r, b / 1048576, s, r / s / 1e6, b / s / 1e6, k / 1024 }'
}
measure plain "$plain"
measure mapped "$mapped" --columns arrival=timestamp,input=prompt_len,output=completion_len
