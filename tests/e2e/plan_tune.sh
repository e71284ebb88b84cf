#!/usr/bin/env bash
# The planner's tuned search (issue 17) through the CLI:
#  1. a scenario with only a single-pool policy gets a dual option built from it;
#  2. the JSON carries the baselines (single at vLLM defaults, single tuned, dual tuned)
#     for every GPU x precision, the tried candidates with a Pareto front, and what the
#     winner was verified on; the table prints the baselines line;
#  3. --tp beyond --node-gpus is refused (pipeline parallelism is not modelled);
#  4. every simulation is a plans row linked to a run.
set -uo pipefail
FLEETSIM=${1:?usage: plan_tune.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
S="$SRC/tests/data/scenarios/plan_tune.yaml"

"$FLEETSIM" plan "$S" --gpus h100,b200 --precisions bf16 --db "$T/p.db" --out "$T/o" --json >"$T/p.json" 2>"$T/err" ||
	fail "plan exited $?: $(cat "$T/err")"
python3 - "$T/p.json" "$T/p.db" <<'PY' || exit 1
import json, sqlite3, sys
j = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
opts = {o["option"]: o for o in j["options"]}
for g in ("h100", "b200"):
    d = opts[f"{g}/bf16/dual"]
    assert d["feasible"] and d["dual_built_from_single"], d
    assert d["max_model_len"][0] == d["result"]["threshold"] and d["max_model_len"][1] == 16384, d
    assert any(t["pareto"] for t in d["tried"]), d["tried"]
    s = opts[f"{g}/bf16/single"]
    assert s["vllm_defaults"]["feasible"] and s["vllm_defaults"]["max_num_seqs"] == 1024, s["vllm_defaults"]
    assert s["verification"]["checks"][0]["traffic"].startswith("seed"), s["verification"]
    assert len(s["verification"]["checks"]) == 2
b = {x["gpu"]: x for x in j["baselines"]}
assert set(b) == {"h100", "b200"}, b
for x in b.values():
    for k in ("single_defaults_gpus", "single_tuned_gpus", "dual_tuned_gpus"):
        assert isinstance(x[k], int) and x[k] > 0, (k, x)
    assert x["single_tuned_gpus_before_verify"] <= x["single_defaults_gpus"], x
rows = db.execute("SELECT count(*) FROM plans p JOIN runs r USING (run_id) WHERE phase IN ('search','split','verify')").fetchone()[0]
assert rows == j["simulations"], (rows, j["simulations"])
print(f"  baselines: {j['baselines']}")
PY
grep -q "Where the saving comes from" "$T/o/report.md" || fail "report has no baselines section"
"$FLEETSIM" plan "$S" --gpus h100 --precisions bf16 --policies single --db "$T/p.db" --no-report --no-verify \
	>"$T/table" 2>"$T/err" || fail "plan (table) exited $?: $(cat "$T/err")"
grep -q "single at vLLM defaults" "$T/table" || fail "table has no baselines line: $(cat "$T/table")"
"$FLEETSIM" plan "$S" --tp 16 --node-gpus 8 --db "$T/p.db" --no-report >"$T/out" 2>"$T/err"
[ $? = 2 ] && grep -q "pipeline parallelism" "$T/err" || fail "--tp 16 --node-gpus 8: $(cat "$T/err")"
echo OK
