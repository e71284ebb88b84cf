#!/usr/bin/env bash
# e2e: every hostile input of tests/hostile/cases.txt (overflowing numbers, alias bombs,
# deep nesting, NUL bytes, bad UTF-8, gigantic lines, FIFOs, directories, read-only and
# locked databases) gives its message and exit status, within 20 s and bounded memory
# (ulimit -v 4 GiB), and leaves no run in the database.
set -u
bin=${1:?usage: hostile.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
H=$SRC/tests/hostile
T=$(mktemp -d)
chmod 755 "$T" # readable by the unprivileged user of the db_readonly case
lockpid=
cleanup() { [ -n "$lockpid" ] && kill "$lockpid" 2>/dev/null; chmod -R u+w "$T"; rm -rf "$T"; }
trap cleanup EXIT
fail=0
# Memory bound: 4 GiB of address space, or (ASan reserves terabytes of shadow, so no
# ulimit -v there) ASan's own RSS limit.
vlimit=4194304
# Writers wait up to 10 minutes for a locked database by default; the db_locked case
# wants the failure itself, within the 20 s each case gets.
export FLEETSIM_DB_BUSY_TIMEOUT_S=2
if nm "$bin" 2>/dev/null | grep -q __asan_init; then
	vlimit=unlimited
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=4096
fi

for x in csv yaml json; do mkfifo "$T/fifo.$x"; mkdir "$T/dir.$x"; done
mkdir "$T/dir.db"
python3 - "$T/long_line.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("arrival_s,input_tokens,output_tokens\n0," + "1" * (5 << 20) + ",5\n")
PY
cat > "$T/ok.yaml" <<'YAML'
name: ok
seed: 1
workload:
  synthetic:
    requests: 20
    arrival: {process: poisson, rate: 1}
    input: {dist: constant, value: 100}
    output: {dist: constant, value: 10}
model: llama-3.1-8b
policies:
  - name: single
    pools:
      - {name: all, gpu: h100, replicas: 1, max_model_len: 8192}
YAML
"$bin" run "$T/ok.yaml" --db "$T/ro.db" -q || { echo "FAIL: cannot make ro.db"; exit 1; }
"$bin" run "$T/ok.yaml" --db "$T/locked.db" -q || { echo "FAIL: cannot make locked.db"; exit 1; }
chmod a-w "$T/ro.db"
# Hold the write lock on locked.db for the whole test from another process.
python3 - "$T/locked.db" "$T/lock.ready" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(120)
PY
lockpid=$!
for _ in $(seq 100); do [ -e "$T/lock.ready" ] && break; sleep 0.1; done
[ -e "$T/lock.ready" ] || { echo "FAIL: could not lock locked.db"; exit 1; }

runs() { [ -f "$1" ] && sqlite3 "file:$1?mode=ro" "select count(*) from runs" 2>/dev/null || echo 0; }
ro_before=$(runs "$T/ro.db")
n=0
while IFS='|' read -r name want msg args; do
	name=$(echo "$name" | xargs)
	case "$name" in ''|\#*) continue ;; esac
	want=$(echo "$want" | xargs)
	msg=$(echo "$msg" | sed 's/^ *//; s/ *$//')
	args=$(echo "$args" | sed 's/^ *//; s/ *$//')
	args=${args//\$H/$H}
	args=${args//\$T/$T}
	rm -f "$T/r.db"
	# shellcheck disable=SC2086 # ARGS are split on spaces by design (no spaces in paths)
	set -f; argv=($args); set +f
	argv=("${argv[@]//\\s/ }")
	runas=()
	if [ "$name" = db_readonly ] && [ "$(id -u)" = 0 ]; then
		command -v setpriv > /dev/null || { echo "skip $name: root and no setpriv"; continue; }
		runas=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	( ulimit -v "$vlimit"; timeout 20 "${runas[@]}" "$bin" "${argv[@]}" ) > "$T/out" 2> "$T/err"
	rc=$?
	n=$((n + 1))
	if [ "$rc" != "$want" ] || ! grep -qF -- "$msg" "$T/err"; then
		echo "FAIL $name: exit $rc (want $want); stderr: $(head -c 300 "$T/err") (want: $msg)"
		fail=1
	elif [ "$(wc -l < "$T/err")" -gt 2 ] || grep -q "Sanitizer\|runtime error" "$T/err"; then
		echo "FAIL $name: more than a one-line message: $(head -c 300 "$T/err")"
		fail=1
	elif [ "$(runs "$T/r.db")" != 0 ]; then
		echo "FAIL $name: a run was written to the database"
		fail=1
	else
		echo "ok   $name: exit $rc, $msg"
	fi
done < "$H/cases.txt"
[ "$(runs "$T/ro.db")" = "$ro_before" ] || { echo "FAIL: ro.db changed"; fail=1; }
kill "$lockpid" 2>/dev/null; wait "$lockpid" 2>/dev/null; lockpid=
[ "$(runs "$T/locked.db")" = 1 ] || { echo "FAIL: locked.db holds $(runs "$T/locked.db") runs, want 1"; fail=1; }
[ "$n" -ge 25 ] || { echo "FAIL: only $n cases ran"; fail=1; }
echo "$n hostile cases checked"
exit $fail
