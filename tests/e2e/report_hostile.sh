#!/usr/bin/env bash
# `fleetsim report` on untrusted databases (issue 15): every crafted file of
# tests/fuzz/make_resultsdb.py (points out of range, dangling run ids, broken grid
# JSON, missing tables and columns, non-SQLite bytes, ...) gives exit 2 with its
# "not a fleetsim results database (...)" message, no output directory and an
# unchanged file; report opens read-only (a read-only file, a read-only directory) and
# never creates a database (a mistyped path is "no such database").
set -uo pipefail
FLEETSIM=${1:?usage: report_hostile.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
chmod 755 "$T"
trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
LIGHT="$SRC/tests/data/scenarios/light.yaml"

"$FLEETSIM" run "$LIGHT" --set workload.synthetic.requests=20 --requests --db "$T/run.db" -q || { echo "FAIL: run"; exit 1; }
"$FLEETSIM" sweep "$LIGHT" --set workload.synthetic.requests=20 --param policies.0.pools.0.replicas=1,2 \
	--db "$T/sweep.db" --jobs 2 -q || { echo "FAIL: sweep"; exit 1; }
python3 "$SRC/tests/fuzz/make_resultsdb.py" "$T/run.db" "$T/sweep.db" "$T/c" > "$T/cases" || { echo "FAIL: make_resultsdb.py"; exit 1; }

n=0
while IFS='|' read -r name msg; do
	db="$T/c/$name.db"
	sum=$(md5sum < "$db")
	timeout 20 "$FLEETSIM" report --db "$db" --out "$T/rep_$name" > "$T/out" 2> "$T/err"
	rc=$?
	n=$((n + 1))
	if [ "$rc" != 2 ] || ! grep -qF -- "$msg" "$T/err"; then
		bad "$name: exit $rc (want 2); stderr: $(head -c 300 "$T/err") (want: $msg)"
	elif [ "$(wc -l < "$T/err")" != 1 ] || grep -q "Sanitizer\|runtime error" "$T/err"; then
		bad "$name: more than a one-line message: $(head -c 300 "$T/err")"
	elif [ -e "$T/rep_$name" ] || ls "$T"/rep_"$name".fleetsim-report-* > /dev/null 2>&1; then
		bad "$name: an output directory was left behind"
	elif [ "$(md5sum < "$db")" != "$sum" ]; then
		bad "$name: the database changed"
	else
		echo "ok   $name: $(cat "$T/err")"
	fi
done < "$T/cases"
[ "$n" -ge 25 ] || bad "only $n crafted cases ran"

# An existing output directory keeps what it had when the report fails.
mkdir "$T/keep" && echo old > "$T/keep/index.html"
"$FLEETSIM" report --db "$T/c/point_neg.db" --out "$T/keep" 2> /dev/null
[ "$(ls -A "$T/keep")" = index.html ] && [ "$(cat "$T/keep/index.html")" = old ] || bad "failed report touched an existing directory"

# The cleaned copies still report.
for b in run sweep; do
	"$FLEETSIM" report --db "$T/c/$b.db" --out "$T/ok_$b" > /dev/null || bad "valid $b.db does not report"
	[ -s "$T/ok_$b/index.html" ] || bad "valid $b.db: no index.html"
done

# A mistyped path: exit 2, nothing created.
"$FLEETSIM" report --db "$T/nosuch.db" --out "$T/r_nosuch" 2> "$T/err"; rc=$?
[ "$rc" = 2 ] && grep -qF "nosuch.db: no such database" "$T/err" || bad "missing db: exit $rc: $(cat "$T/err")"
[ -e "$T/nosuch.db" ] || [ -e "$T/r_nosuch" ] && bad "missing db: something was created"

# Read-only file and read-only directory (WAL file, no -shm beside it).  As root,
# run as nobody so that the permissions bite.
runas=()
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv > /dev/null; then runas=(setpriv --reuid=65534 --regid=65534 --clear-groups); fi
fi
mkdir "$T/rodir" "$T/outs" && chmod 777 "$T/outs"
cp "$T/sweep.db" "$T/rodir/s.db"
[ "$(sqlite3 "$T/rodir/s.db" 'pragma journal_mode')" = wal ] || bad "sweep.db is not in WAL mode"
rm -f "$T/rodir/s.db-wal" "$T/rodir/s.db-shm"
chmod 444 "$T/rodir/s.db"; chmod 555 "$T/rodir"
sum=$(md5sum < "$T/rodir/s.db")
"${runas[@]}" "$FLEETSIM" report --db "$T/rodir/s.db" --out "$T/outs/ro" > /dev/null 2> "$T/err" || bad "read-only dir: $(cat "$T/err")"
[ -s "$T/outs/ro/index.html" ] || bad "read-only dir: no index.html"
[ "$(md5sum < "$T/rodir/s.db")" = "$sum" ] || bad "read-only dir: the database changed"
cp "$T/run.db" "$T/ro.db" && chmod 444 "$T/ro.db"
"${runas[@]}" "$FLEETSIM" report --db "$T/ro.db" --out "$T/outs/rofile" > /dev/null 2> "$T/err" || bad "read-only file: $(cat "$T/err")"
[ -s "$T/outs/rofile/index.html" ] || bad "read-only file: no index.html"

[ "$fail" = 0 ] && echo "report_hostile: $n crafted databases refused; read-only file and directory read"
exit $fail
