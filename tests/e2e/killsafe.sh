#!/usr/bin/env bash
# e2e: crash-safe results.  `fleetsim run --requests` appending to one database is killed
# (SIGKILL) at random moments, over and over; after every kill the file must open,
# pass PRAGMA integrity_check, and hold only complete runs: each runs row has its
# pool_metrics rows (fleet "*" + one per pool), and every requests/timeseries row
# belongs to a run.  Finally a clean run still appends to the same file.
set -u
bin=${1:?usage: killsafe.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
db=$T/k.db
scen=$SRC/tests/data/scenarios/light.yaml
# 50000 requests: each run writes as many `requests` rows, so a kill often lands in
# the database write, not only in the simulation.
big=(--set workload.synthetic.requests=50000 --set workload.synthetic.arrival.rate=5)
kills=${KILLSAFE_KILLS:-25}
RANDOM=${KILLSAFE_SEED:-9}

check() {
	python3 - "$db" <<'PY'
import os, sqlite3, sys
# A run killed before its first commit may leave no database, or one with no tables
# (the schema is created in one transaction): that holds 0 runs.  Some tables without
# `runs` would be a half-written schema, and fail below.
if not os.path.exists(sys.argv[1]):
    print(0)
    sys.exit(0)
c = sqlite3.connect(sys.argv[1])
ok = c.execute("pragma integrity_check").fetchone()[0]
if ok != "ok":
    sys.exit(f"integrity_check: {ok}")
tables = {r[0] for r in c.execute("select name from sqlite_master where type = 'table'")}
if not tables:
    print(0)
    sys.exit(0)
if "runs" not in tables:
    sys.exit(f"schema half-written: tables {sorted(tables)} but no runs")
runs = c.execute("select count(*) from runs").fetchone()[0]
bad = c.execute("select count(*) from runs r where (select count(*) from pool_metrics p "
                "where p.run_id = r.run_id) != 2").fetchone()[0]
orphans = sum(c.execute(f"select count(*) from {t} where run_id not in (select run_id from runs)")
              .fetchone()[0] for t in ("pool_metrics", "requests", "timeseries"))
noreq = c.execute("select count(*) from runs r where not exists "
                  "(select 1 from requests q where q.run_id = r.run_id)").fetchone()[0]
if bad or orphans or noreq:
    sys.exit(f"{bad} runs without their pool_metrics rows, {orphans} orphan rows, "
             f"{noreq} runs without requests")
print(runs)
PY
}

# How long one run takes here, to spread the kills over it.
t0=$(date +%s%N)
"$bin" run "$scen" --db "$T/time.db" --requests -q "${big[@]}" || { echo "FAIL: clean run failed"; exit 1; }
dur_ms=$(( ($(date +%s%N) - t0) / 1000000 + 1 ))
echo "one run takes ${dur_ms} ms; killing $kills times at random points in [0, 1.5x)"
prev=0
killed=0
for i in $(seq "$kills"); do
	"$bin" run "$scen" --db "$db" --requests -q --seed "$i" "${big[@]}" 2> /dev/null &
	pid=$!
	delay=$(( RANDOM % (3 * dur_ms / 2 + 1) ))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -9 "$pid" 2> /dev/null
	wait "$pid" 2> /dev/null
	[ $? = 137 ] && killed=$((killed + 1)) # 128 + SIGKILL: it was still running
	n=$(check) || { echo "FAIL after kill $i (at ${delay} ms): $n"; exit 1; }
	[ "$n" -ge "$prev" ] || { echo "FAIL: runs went from $prev to $n"; exit 1; }
	prev=$n
done
"$bin" run "$scen" --db "$db" --requests -q "${big[@]}" || { echo "FAIL: run after the kills failed"; exit 1; }
n=$(check) || { echo "FAIL after the final run: $n"; exit 1; }
[ "$n" = $((prev + 1)) ] || { echo "FAIL: final run not appended ($prev -> $n)"; exit 1; }
echo "ok: $killed of $kills runs killed mid-way; database holds $n complete runs, integrity ok"
[ "$killed" -gt 0 ] || { echo "FAIL: no run was killed while running"; exit 1; }
