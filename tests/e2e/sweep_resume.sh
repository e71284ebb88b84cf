#!/usr/bin/env bash
# Resumable sweeps: kill -9 a sweep once some points are in the database, resume it,
# and check every point is there exactly once (each point is one transaction), the
# resumed run appended to the same sweep, and the results equal an uninterrupted sweep.
set -euo pipefail
FLEETSIM=${1:?usage: sweep_resume.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SC="$SRC/tests/data/scenarios/sweep_small.yaml"
# 22 points x 2 policies of 6000 requests: a few seconds in all, long enough to kill.
ARGS=(--set workload.synthetic.requests=6000 --param workload.synthetic.arrival.rate=2:12:+1
      --param policies.0.pools.0.max_num_seqs=16,32 --jobs 2)
N=22

echo "== start, kill -9 after >= 3 points"
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --db "$T/k.db" -q &
PID=$!
done_pts=0
for _ in $(seq 1 2400); do # up to 120 s: a loaded machine may be slow to store 3 points
	done_pts=$(sqlite3 "$T/k.db" "select count(distinct point) from sweeps" 2>/dev/null || echo 0)
	[ "${done_pts:-0}" -ge 3 ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$PID" 2>/dev/null || true
wait "$PID" 2>/dev/null || true
PID=
before=$(sqlite3 "$T/k.db" "select count(distinct point) from sweeps")
echo "  killed with $before of $N points stored"
[ "$before" -ge 1 ] || fail "no point was stored before the kill"
[ "$before" -lt "$N" ] || echo "  (the sweep finished before the kill; resume must then run nothing)"
# A killed point leaves no trace: runs rows all belong to a stored point.
orphans=$(sqlite3 "$T/k.db" "select count(*) from runs where run_id not in (select run_id from sweeps)")
[ "$orphans" = 0 ] || fail "$orphans runs without a sweeps row after kill -9"

echo "== --resume"
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --db "$T/k.db" --resume --json > "$T/r.json"
cat "$T/r.json"
python3 - "$T/r.json" "$before" "$N" <<'PY' || fail "resume counts"
import json, sys
d = json.load(open(sys.argv[1])); before, n = int(sys.argv[2]), int(sys.argv[3])
assert d["resumed"] and d["sweep_id"] == 1, d
assert d["points_skipped"] == before and d["points_run"] == n - before, d
PY
sqlite3 "$T/k.db" "select count(*), count(distinct point), min(point), max(point) from sweeps where policy = 'single'" > "$T/c.txt"
echo "  single: rows, distinct points, min, max = $(cat "$T/c.txt")"
[ "$(cat "$T/c.txt")" = "$N|$N|0|$((N - 1))" ] || fail "points not all present exactly once"
[ "$(sqlite3 "$T/k.db" "select count(*) from sweeps")" = $((2 * N)) ] || fail "expected $((2 * N)) sweeps rows"
[ "$(sqlite3 "$T/k.db" "select count(*) from sweep_defs")" = 1 ] || fail "resume created a new sweep"

echo "== a second --resume runs nothing"
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --db "$T/k.db" --resume --json | python3 -c \
	"import json,sys; d=json.load(sys.stdin); assert d['points_run']==0 and d['points_skipped']==$N, d" \
	|| fail "second resume"

echo "== same numbers as an uninterrupted sweep"
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --db "$T/full.db" -q
q="select s.point, s.policy, m.pool, m.completed, m.ttft_p99_s, m.gpu_hours, m.preemptions from sweeps s join pool_metrics m using (run_id) order by 1, 2, 3"
diff <(sqlite3 "$T/k.db" "$q") <(sqlite3 "$T/full.db" "$q") > /dev/null || fail "resumed sweep differs from a full one"
echo "OK"
