#!/usr/bin/env bash
# `fleetsim sweep`: 2 parameters x 3 values (9 points x 2 policies = 18 runs).
#  1. --jobs 1 and --jobs 4 give the same rows, compared by (point, policy): every
#     pool_metrics column, the sweeps params, the runs params and the stored quantiles
#  2. points are in row-major order (last --param fastest) with the values asked for
#  3. ranges expand as documented; bad --param specs are usage errors (exit 2)
set -euo pipefail
FLEETSIM=${1:?usage: sweep_jobs.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SC="$SRC/tests/data/scenarios/sweep_small.yaml"
P=(--param workload.synthetic.arrival.rate=4,8,16 --param policies.0.pools.0.max_num_seqs=8:32:x2)

# Every number of a sweep except run ids, wall time and start time, keyed by point.
dump() {
	sqlite3 "$1" "
	  SELECT s.point, s.policy, s.params, json_remove(r.params, '\$.scenario_file.sweep'), r.seed, m.*
	  FROM sweeps s JOIN runs r USING (run_id) JOIN pool_metrics m USING (run_id)
	  ORDER BY s.point, s.policy, m.pool" | cut -d'|' -f1-5,7-
	sqlite3 "$1" "
	  SELECT s.point, s.policy, q.metric, q.q, q.value_s
	  FROM sweeps s JOIN quantiles q USING (run_id) ORDER BY 1, 2, 3, 4"
}

echo "== --jobs 1 vs --jobs 4"
"$FLEETSIM" sweep "$SC" "${P[@]}" --jobs 1 --db "$T/j1.db" -q
"$FLEETSIM" sweep "$SC" "${P[@]}" --jobs 4 --db "$T/j4.db" -q
n1=$(sqlite3 "$T/j1.db" "select count(*) from sweeps")
n4=$(sqlite3 "$T/j4.db" "select count(*) from sweeps")
echo "  sweeps rows: jobs1=$n1 jobs4=$n4 (expect 18 = 9 points x 2 policies)"
[ "$n1" = 18 ] && [ "$n4" = 18 ] || fail "expected 18 sweeps rows"
dump "$T/j1.db" > "$T/a.txt"
dump "$T/j4.db" > "$T/b.txt"
lines=$(wc -l < "$T/a.txt")
echo "  compared $lines rows (metrics per pool + 103 quantiles x 2 metrics per run)"
[ "$lines" -gt 18 ] || fail "dump too short"
diff "$T/a.txt" "$T/b.txt" > /dev/null || { diff "$T/a.txt" "$T/b.txt" | head; fail "--jobs 1 and --jobs 4 differ"; }

echo "== point order: last --param varies fastest"
got=$(sqlite3 "$T/j1.db" "select group_concat(v, ' ') from (select json_extract(params, '\$.\"workload.synthetic.arrival.rate\"') || '/' || json_extract(params, '\$.\"policies.0.pools.0.max_num_seqs\"') as v from sweeps where policy = 'single' order by point)")
want="4/8 4/16 4/32 8/8 8/16 8/32 16/8 16/16 16/32"
echo "  $got"
[ "$got" = "$want" ] || fail "point order: got '$got', want '$want'"
# The point's setting really reached the simulator: runs.params shows the pool's max_num_seqs.
mns=$(sqlite3 "$T/j1.db" "select json_extract(r.params, '\$.pools[0].max_num_seqs') from sweeps s join runs r using (run_id) where s.point = 4 and s.policy = 'single'")
[ "$mns" = 16 ] || fail "point 4 ran with max_num_seqs=$mns, want 16"

echo "== ranges and the sweep: block"
"$FLEETSIM" sweep "$SC" --param workload.synthetic.arrival.rate=0.1:0.3:+0.1 --param policies.0.pools.0.max_num_seqs=512:2048:x2 \
	--db "$T/r.db" -q
vals=$(sqlite3 "$T/r.db" "select group_concat(json_extract(params, '\$.\"workload.synthetic.arrival.rate\"') || '/' || json_extract(params, '\$.\"policies.0.pools.0.max_num_seqs\"'), ' ') from (select params from sweeps where policy='dual' order by point)")
echo "  $vals"
[ "$vals" = "0.1/512 0.1/1024 0.1/2048 0.2/512 0.2/1024 0.2/2048 0.3/512 0.3/1024 0.3/2048" ] || fail "range expansion: $vals"
# Without --param the scenario's sweep: block (3 rates x 3 max_num_seqs) applies.
"$FLEETSIM" sweep "$SC" --db "$T/blk.db" --json > "$T/blk.json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['points']==9 and d['runs_written']==18, d" "$T/blk.json" \
	|| fail "sweep: block"

echo "== bad input is a usage error"
for bad in "workload.synthetic.arrival.rate=" "noequals" "workload.synthetic.arrival.rate=8:4:x2" \
	   "workload.synthetic.arrival.rate=1:4:x1" "workload.synthetic.arrival.rate=1,,2" \
	   "policies.0.pools.0.max_num_seqs=-5"; do
	set +e
	"$FLEETSIM" sweep "$SC" --param "$bad" --db "$T/bad.db" -q 2> "$T/err.txt"
	rc=$?
	set -e
	echo "  --param '$bad' -> exit $rc: $(head -c 150 "$T/err.txt")"
	[ "$rc" = 2 ] || fail "--param '$bad' exited $rc, want 2"
done
echo "OK"
