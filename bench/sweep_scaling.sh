#!/usr/bin/env bash
# Sweep throughput (points per second) at 1, 2, ... worker threads, and under MPI
# (rank 0 writes, R-1 workers) when mpirun is present.  Usage:
#   bench/sweep_scaling.sh [FLEETSIM] [MAX_WORKERS]     (default build/fleetsim, nproc)
# 24 points x 2 policies of tests/data/scenarios/sweep_small.yaml with REQUESTS requests
# each (default 30000: heavy enough that simulation, not the single writer, dominates).
set -euo pipefail
FLEETSIM=${1:-build/fleetsim}
MAX=${2:-$(nproc)}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ARGS=(--set workload.synthetic.requests=${REQUESTS:-30000} --param workload.synthetic.arrival.rate=2:13:+1
      --param policies.0.pools.0.max_num_seqs=16,32)
pps() { python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"{d['points_per_s']:.2f}\")"; }
echo "machine: $(nproc) cores; 24 points x 2 policies, ${REQUESTS:-30000} requests each"
printf "%-18s %10s\n" "workers" "points/s"
w=1
while [ "$w" -le "$MAX" ]; do
	r=$("$FLEETSIM" sweep "$SRC/tests/data/scenarios/sweep_small.yaml" "${ARGS[@]}" --jobs "$w" \
		--db "$T/t$w.db" --json | pps)
	printf "%-18s %10s\n" "threads=$w" "$r"
	w=$((w * 2))
done
if command -v mpirun > /dev/null && "$FLEETSIM" sweep --help | grep -q "MPI sweeps available"; then
	export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
	for r in 2 3; do
		v=$(mpirun -n "$r" --oversubscribe --allow-run-as-root "$FLEETSIM" sweep \
			"$SRC/tests/data/scenarios/sweep_small.yaml" "${ARGS[@]}" --db "$T/m$r.db" --json | pps)
		printf "%-18s %10s\n" "mpi ranks=$r ($((r - 1))w)" "$v"
	done
fi
