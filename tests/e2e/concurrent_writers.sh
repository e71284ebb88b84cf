#!/usr/bin/env bash
# Finished work is never lost under contention (issue 15 item 6): 12 `fleetsim run`s
# append to ONE database at once while another process holds its write lock for ~8 s
# (python3's sqlite3: BEGIN EXCLUSIVE + sleep).  Every run waits for the lock (busy
# timeout + retried transactions), exits 0 and is stored; the whole test is bounded.
set -euo pipefail
FLEETSIM=${1:?usage: concurrent_writers.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
command -v python3 > /dev/null || { echo "SKIP: python3 not found"; exit 77; }
python3 -c 'import sqlite3' 2> /dev/null || { echo "SKIP: python3 has no sqlite3"; exit 77; }
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SC="$SRC/tests/data/scenarios/light.yaml"
DB="$T/one.db"
N=12
start=$(date +%s)

echo "== a process holds the write lock for 8 s"
python3 - "$DB" "$T/locked" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("PRAGMA journal_mode=WAL")
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(8)
c.execute("COMMIT")
PY
LOCKER=$!
PIDS+=("$LOCKER")
for _ in $(seq 1 200); do [ -e "$T/locked" ] && break; sleep 0.05; done
[ -e "$T/locked" ] || fail "the lock holder did not start"

echo "== $N concurrent runs into one database"
for i in $(seq 1 $N); do
	"$FLEETSIM" run "$SC" --db "$DB" --requests --seed "$i" > "$T/out.$i" 2>&1 &
	PIDS+=("$!")
done
rc_all=0
for i in $(seq 1 $N); do
	p=${PIDS[$i]}
	if ! wait "$p"; then
		echo "run $i failed:"
		cat "$T/out.$i"
		rc_all=1
	fi
done
wait "$LOCKER" || fail "the lock holder failed"
PIDS=()
[ "$rc_all" = 0 ] || fail "a run lost its results to a busy database"

runs=$(sqlite3 "$DB" "select count(*) from runs" 2>/dev/null ||
	python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$DB")
seeds=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(distinct seed) from runs').fetchone()[0])" "$DB")
reqs=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(distinct run_id) from requests').fetchone()[0])" "$DB")
echo "  runs=$runs distinct seeds=$seeds runs with requests=$reqs"
[ "$runs" = "$N" ] && [ "$seeds" = "$N" ] && [ "$reqs" = "$N" ] || fail "expected $N runs, each with its requests"
el=$(($(date +%s) - start))
echo "  took ${el} s"
# A bound against hangs, not a speed test: 12 sanitizer builds on a loaded 2-core CI
# machine take minutes.
[ "$el" -lt 300 ] || fail "took ${el} s (limit 300)"

echo "== a malformed FLEETSIM_DB_BUSY_TIMEOUT_S is an input error"
set +e
FLEETSIM_DB_BUSY_TIMEOUT_S=soon "$FLEETSIM" run "$SC" --db "$DB" > "$T/bad.txt" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && grep -q FLEETSIM_DB_BUSY_TIMEOUT_S "$T/bad.txt" || { cat "$T/bad.txt"; fail "expected exit 2 naming the variable, got $rc"; }

echo "== a short timeout still fails cleanly (exit 1, 'locked'), leaving the file as it was"
python3 - "$DB" "$T/locked2" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(4)
c.execute("COMMIT")
PY
LOCKER=$!
PIDS+=("$LOCKER")
for _ in $(seq 1 200); do [ -e "$T/locked2" ] && break; sleep 0.05; done
set +e
FLEETSIM_DB_BUSY_TIMEOUT_S=0.5 "$FLEETSIM" run "$SC" --db "$DB" > "$T/short.txt" 2>&1
rc=$?
set -e
wait "$LOCKER"
PIDS=()
[ "$rc" = 1 ] && grep -q "locked" "$T/short.txt" || { cat "$T/short.txt"; fail "expected exit 1 'locked', got $rc"; }
runs=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$DB")
[ "$runs" = "$N" ] || fail "the failed run left rows ($runs runs)"
echo "OK"
