#!/usr/bin/env bash
# A sweep's inputs are fixed at its start (issue 15 item 7):
#  1. the scenario is read once: editing the file while the sweep runs changes no point
#  2. grid_hash covers the files the scenario references: after the trace changes,
#     --resume is refused (exit 2) naming the trace; restored, --resume runs nothing
#  3. two simultaneous `sweep --resume` of one sweep: one runs it, the other is refused
#     with a clear message (never a raw UNIQUE-constraint error); nothing is stored twice
set -euo pipefail
FLEETSIM=${1:?usage: sweep_inputs.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
command -v sqlite3 > /dev/null || { echo "SKIP: sqlite3 not found"; exit 77; }
T=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

echo "== 1. editing the scenario mid-sweep"
cp "$SRC/tests/data/scenarios/sweep_small.yaml" "$T/sc.yaml"
# 12 rates x 3 max_num_seqs (the file's sweep: block) x 2 policies on one thread: long enough to edit mid-way.
ARGS=(--set workload.synthetic.requests=4000 --param workload.synthetic.arrival.rate=2:13:+1 --jobs 1)
"$FLEETSIM" sweep "$T/sc.yaml" "${ARGS[@]}" --db "$T/e.db" -q &
PID=$!
PIDS+=("$PID")
for _ in $(seq 1 2400); do
	n=$(sqlite3 "$T/e.db" "select count(distinct point) from sweeps" 2>/dev/null || echo 0)
	[ "${n:-0}" -ge 1 ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.05
done
alive=0
kill -0 "$PID" 2>/dev/null && alive=1
# replicas 2 -> 1 and a different seed: points parsed from the file now would differ.
sed -i -e 's/replicas: 2,/replicas: 1,/' -e 's/^seed: 11/seed: 99/' "$T/sc.yaml"
grep -q 'replicas: 1,' "$T/sc.yaml" || fail "the edit did not apply"
wait "$PID" || fail "the sweep failed"
PIDS=()
[ "$alive" = 1 ] || echo "  (the sweep finished before the edit: the check below is weaker)"
got=$(sqlite3 "$T/e.db" "select count(*), sum(json_extract(r.params, '\$.pools[0].replicas') = 2),
	sum(r.seed = 11) from sweeps s join runs r using (run_id) where s.policy = 'single'")
echo "  single runs, with replicas 2, with seed 11: $got"
[ "$got" = "36|36|36" ] || fail "points after the edit used the edited file"

echo "== 2. a changed trace refuses --resume"
mkdir -p "$T/tr"
cp "$SRC/tests/data/traces/generic.csv" "$T/tr/trace.csv"
cat > "$T/tr/sc.yaml" <<'YAML'
name: trace-sweep
workload: {trace: trace.csv}
model: llama-3.1-8b
policies:
  - name: single
    pools:
      - {name: all, gpu: h100, replicas: 1, max_model_len: 8192}
YAML
P=(--param policies.0.pools.0.max_num_seqs=8,16)
"$FLEETSIM" sweep "$T/tr/sc.yaml" "${P[@]}" --db "$T/t.db" -q
"$FLEETSIM" sweep "$T/tr/sc.yaml" "${P[@]}" --db "$T/t.db" --resume --json > "$T/r0.json"
grep -q '"points_run":0' "$T/r0.json" || fail "resume of a complete sweep ran points: $(cat "$T/r0.json")"
grep -q 'trace.csv' <(sqlite3 "$T/t.db" "select grid from sweep_defs") || fail "grid JSON does not list the trace"
cp "$T/tr/trace.csv" "$T/trace.orig"
echo "5.0,300,20,64,chat,1200" >> "$T/tr/trace.csv"
set +e
"$FLEETSIM" sweep "$T/tr/sc.yaml" "${P[@]}" --db "$T/t.db" --resume > "$T/r1.txt" 2>&1
rc=$?
set -e
cat "$T/r1.txt"
[ "$rc" = 2 ] || fail "expected exit 2 for --resume with a changed trace, got $rc"
grep -q "trace.csv" "$T/r1.txt" || fail "the refusal does not name the trace"
grep -q "sc.yaml" "$T/r1.txt" && fail "the refusal names the unchanged scenario"
[ "$(sqlite3 "$T/t.db" "select count(*) from sweep_defs")" = 1 ] || fail "the refused resume created a sweep"
# Without --resume a changed input is simply a new sweep.
"$FLEETSIM" sweep "$T/tr/sc.yaml" "${P[@]}" --db "$T/t.db" -q
[ "$(sqlite3 "$T/t.db" "select count(distinct grid_hash) from sweep_defs")" = 2 ] || fail "new trace, same grid_hash"
cp "$T/trace.orig" "$T/tr/trace.csv"
"$FLEETSIM" sweep "$T/tr/sc.yaml" "${P[@]}" --db "$T/t.db" --resume --json > "$T/r2.json"
grep -q '"points_run":0' "$T/r2.json" && grep -q '"sweep_id":1' "$T/r2.json" ||
	fail "restored trace: expected sweep 1 with nothing to run: $(cat "$T/r2.json")"

echo "== 3. two simultaneous --resume of one sweep"
ARGS=(--set workload.synthetic.requests=4000 --param workload.synthetic.arrival.rate=2:9:+1 --jobs 2)
SC="$SRC/tests/data/scenarios/sweep_small.yaml"
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --db "$T/c.db" --resume -q > "$T/a.txt" 2>&1 &
A=$!
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --db "$T/c.db" --resume -q > "$T/b.txt" 2>&1 &
B=$!
PIDS+=("$A" "$B")
set +e
wait "$A"; ra=$?
wait "$B"; rb=$?
set -e
PIDS=()
echo "  exit codes: $ra $rb"
cat "$T/a.txt" "$T/b.txt"
grep -qi "unique" "$T/a.txt" "$T/b.txt" && fail "a raw UNIQUE-constraint error"
if [ "$ra" != 0 ] || [ "$rb" != 0 ]; then
	# One ran the sweep; the other was refused with the message (exit 1).
	[ $((ra + rb)) = 1 ] || fail "expected one to succeed and one refused, got $ra $rb"
	grep -q "being run by another fleetsim process" "$T/a.txt" "$T/b.txt" || fail "no clear refusal message"
fi
got=$(sqlite3 "$T/c.db" "select count(*), count(distinct point || policy) from sweeps")
[ "$got" = "48|48" ] || fail "expected 8 rates x 3 max_num_seqs x 2 policies once each, got $got"
[ "$(sqlite3 "$T/c.db" "select count(*) from sweep_defs")" = 1 ] || fail "two sweeps created"
orphans=$(sqlite3 "$T/c.db" "select count(*) from runs where run_id not in (select run_id from sweeps)")
[ "$orphans" = 0 ] || fail "$orphans runs stored without their point"

echo "== 3b. a --resume while the sweep runs is refused; afterwards it runs nothing"
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --set seed=5 --db "$T/d.db" -q &
A=$!
PIDS+=("$A")
for _ in $(seq 1 2400); do
	n=$(sqlite3 "$T/d.db" "select count(*) from sweep_defs" 2>/dev/null || echo 0)
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.05
done
if kill -0 "$A" 2>/dev/null; then
	set +e
	"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --set seed=5 --db "$T/d.db" --resume > "$T/b2.txt" 2>&1
	rb=$?
	set -e
	cat "$T/b2.txt"
	if kill -0 "$A" 2>/dev/null || [ "$rb" != 0 ]; then
		[ "$rb" = 1 ] && grep -q "being run by another fleetsim process" "$T/b2.txt" ||
			fail "expected exit 1 'being run by another fleetsim process', got $rb"
	fi
else
	echo "  (the sweep finished before the second started)"
fi
wait "$A" || fail "the first sweep failed"
PIDS=()
"$FLEETSIM" sweep "$SC" "${ARGS[@]}" --set seed=5 --db "$T/d.db" --resume --json > "$T/d.json"
grep -q '"points_run":0' "$T/d.json" || fail "resume after the sweep ran points: $(cat "$T/d.json")"
[ "$(sqlite3 "$T/d.db" "select count(*), count(distinct point || policy) from sweeps")" = "48|48" ] ||
	fail "points stored twice or missing"
echo "OK"
