#!/usr/bin/env bash
# The planner on the paper scenario (issue 7 / 5):
#  1. the scenario's 10 s TTFT p99 SLO is below what unloaded prefill of the long
#     documents allows, so the plan says so at once (no simulation, names the bound)
#     instead of doubling the fleet up to the 512-replica ceiling;
#  2. with an attainable SLO the dual search finishes: its per-pool split phase is a
#     bisection (at most 1 + 2 ceil(log2(max pool)) = 19 'split' simulations per
#     threshold), where the old one-replica-at-a-time phase needed > 96;
#  3. every simulation is a plans row linked to a run.
set -uo pipefail
FLEETSIM=${1:?usage: plan_paper_search.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
S="$SRC/scenarios/paper/llama3-70b-a100.yaml"
# --no-tune: the split-phase bound is per search (one TP / shape per threshold).
common=(--gpus a100 --precisions bf16 --policies single,dual --no-report --no-verify --no-tune)

"$FLEETSIM" plan "$S" "${common[@]}" --db "$T/a.db" --out "$T/o" --json >"$T/a.json" 2>"$T/err" ||
	fail "plan (infeasible SLO) exited $?: $(cat "$T/err")"
python3 - "$T/a.json" <<'PY' || exit 1
import json, sys
j = json.load(open(sys.argv[1]))
assert j["simulations"] == 0, j["simulations"]
for o in j["options"]:
    assert not o["feasible"], o["option"]
    assert "infeasible at any fleet size" in o["note"] and "unloaded prefill" in o["note"], o["note"]
    # The floor sits between the SLO (10 s) and the simulated TTFT p99 of any fleet
    # (~20.2 s: the 60K-token documents' prefill, 8 chunks of 8192 tokens).
    assert 10 < o["ttft_p99_floor_s"] < 20.5, o["ttft_p99_floor_s"]
    print(f"  {o['option']}: {o['note'][:90]}...")
PY

"$FLEETSIM" plan "$S" "${common[@]}" --db "$T/b.db" --out "$T/o" --set slo.ttft_p99=30 --json \
	>"$T/b.json" 2>"$T/err" || fail "plan (TTFT 30 s) exited $?: $(cat "$T/err")"
python3 - "$T/b.json" "$T/b.db" <<'PY' || exit 1
import json, sqlite3, sys
j = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
d = [o for o in j["options"] if o["option"] == "a100/bf16/dual"][0]
assert d["feasible"], d["note"]
for t, n, mx in db.execute("SELECT threshold, count(*), max(replicas) FROM plans "
                           "WHERE option = 'a100/bf16/dual' AND phase = 'split' GROUP BY threshold"):
    print(f"  dual threshold {t}: {n} split simulations")
    assert n <= 19, n
rows = db.execute("SELECT count(*) FROM plans p JOIN runs r USING (run_id)").fetchone()[0]
assert rows == j["simulations"], (rows, j["simulations"])
# The result passes and sits at or above the floor.
assert d["result"]["ttft_p99_s"] >= d["ttft_p99_floor_s"]
print(f"  dual: {d['gpus']} GPUs {d['result']['replicas']}, {rows} simulations recorded")
PY
echo OK
