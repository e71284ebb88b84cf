#!/usr/bin/env bash
# `mpirun -n 3 fleetsim sweep` (rank 0 coordinates and writes, 2 workers) gives the same
# rows as a serial sweep, compared by (point, policy).
set -euo pipefail
FLEETSIM=${1:?usage: sweep_mpi.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
if ! command -v mpirun > /dev/null; then
	echo "SKIP: mpirun not found (install openmpi-bin libopenmpi-dev; CI has them)"
	exit 77
fi
if ! "$FLEETSIM" sweep --help | grep -q "MPI sweeps available"; then
	echo "SKIP: $FLEETSIM was built without MPI (configure with -DFLEETSIM_MPI=ON)"
	exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# MPI_Init's own allocations are not ours to fix under the sanitizer build.
export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
SC="$SRC/tests/data/scenarios/sweep_small.yaml"
P=(--param workload.synthetic.arrival.rate=4,8,16 --param policies.0.pools.0.max_num_seqs=8,16,32)
dump() {
	sqlite3 "$1" "
	  SELECT s.point, s.policy, s.params, r.params, r.seed, m.*
	  FROM sweeps s JOIN runs r USING (run_id) JOIN pool_metrics m USING (run_id)
	  ORDER BY s.point, s.policy, m.pool" | cut -d'|' -f1-5,7-
	sqlite3 "$1" "SELECT s.point, s.policy, q.metric, q.q, q.value_s
	  FROM sweeps s JOIN quantiles q USING (run_id) ORDER BY 1, 2, 3, 4"
	sqlite3 "$1" "SELECT s.point, s.policy, c.category, c.name, c.requests, c.ttft_p99_s
	  FROM sweeps s JOIN categories c USING (run_id) ORDER BY 1, 2, 3"
}

echo "== serial"
"$FLEETSIM" sweep "$SC" "${P[@]}" --jobs 1 --db "$T/s.db" -q
echo "== mpirun -n 3"
timeout 120 mpirun -n 3 --oversubscribe --allow-run-as-root "$FLEETSIM" sweep "$SC" "${P[@]}" \
	--db "$T/m.db" --json > "$T/m.json" || fail "mpirun sweep failed"
cat "$T/m.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['ranks']==3 and d['points_run']==9, d" "$T/m.json" \
	|| fail "expected 3 ranks and 9 points"
dump "$T/s.db" > "$T/a.txt"
dump "$T/m.db" > "$T/b.txt"
echo "  compared $(wc -l < "$T/a.txt") rows"
diff "$T/a.txt" "$T/b.txt" > /dev/null || { diff "$T/a.txt" "$T/b.txt" | head; fail "MPI and serial sweeps differ"; }
[ "$(sqlite3 "$T/m.db" "select count(*) from sweeps")" = 18 ] || fail "expected 18 sweeps rows"

echo "== a bad point under MPI fails cleanly (exit 2 or 1, no hang)"
set +e
timeout 120 mpirun -n 3 --oversubscribe --allow-run-as-root "$FLEETSIM" sweep "$SC" \
	--param policies.0.pools.0.max_num_seqs=8,-1 --db "$T/bad.db" -q 2> "$T/err.txt"
rc=$?
set -e
echo "  exit $rc: $(grep -m1 fleetsim "$T/err.txt" || true)"
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "bad point: exit $rc"
echo "OK"
