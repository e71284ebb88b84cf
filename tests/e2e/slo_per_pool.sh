#!/usr/bin/env bash
# End-to-end checks of SLOs per class and per pool (issue 17 item 3, docs/planning.md
# "SLOs per class and per pool"):
#  1. a small starved pool fails `run` (text line and --json) while the fleet P99 passes;
#     slo.per_pool: false restores the fleet-only verdict; slo.pools relaxes the pool
#  2. class targets (category and length) judge their requests, fleet-wide and per pool
#  3. a class naming a category the workload lacks is FILE:LINE:COL, exit 2 (synthetic
#     at load, trace when read)
#  4. `plan` fails the starved sizes with the pool named and sizes the pool up
#  5. scenarios without classes and with per_pool off give the old fleet-only verdict
set -euo pipefail
FLEETSIM=${1:?usage: slo_per_pool.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
SC="$SRC/tests/data/scenarios/slo_starved_pool.yaml"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v python3 >/dev/null || exit 77

echo "== starved pool: fleet P99 passes, the pool fails, named"
out=$("$FLEETSIM" run "$SC" --db "$T/r.db")
echo "$out" | grep -q "^SLO dual: FAIL: pool 'long': TTFT p99 [0-9.]* s > 2.000 s$" || fail "run line: $out"
"$FLEETSIM" run "$SC" --db "$T/r.db" --json > "$T/r.json"
python3 - "$T/r.json" <<'PY' || fail "run --json slo"
import json, sys
p = json.load(open(sys.argv[1]))["policies"][0]
f, lng = p["fleet"], p["pools"][1]
print(f"  fleet TTFT p99 {f['ttft_p99_s']:.3f} s, long pool p50 {lng['ttft_p50_s']:.1f} s share {lng['traffic_share']:.4f}; {p['slo']}")
ok = f["ttft_p99_s"] <= 2.0 and lng["traffic_share"] < 0.01 and lng["ttft_p50_s"] > 10
ok = ok and p["slo"]["pass"] is False and p["slo"]["reason"].startswith("pool 'long': TTFT p99")
sys.exit(0 if ok else 1)
PY
"$FLEETSIM" run "$SC" --db "$T/r.db" --set slo.per_pool=false | grep -qx "SLO dual: pass" ||
  fail "per_pool: false should give the fleet-only verdict (pass)"
"$FLEETSIM" run "$SC" --db "$T/r.db" --set 'slo.pools={long: {ttft_p99: 200}}' | grep -qx "SLO dual: pass" ||
  fail "slo.pools.long.ttft_p99 200 should pass"
"$FLEETSIM" run "$SC" --db "$T/r.db" --set 'slo.pools={long: {ttft_p99: 50}}' |
  grep -q "^SLO dual: FAIL: pool 'long': TTFT p99 [0-9.]* s > 50.000 s$" || fail "slo.pools.long 50 s should fail"

echo "== classes"
"$FLEETSIM" run "$SC" --db "$T/r.db" --set slo.per_pool=false \
  --set 'slo.classes=[{name: docs, category: doc, ttft_p99: 15}]' |
  grep -q "^SLO dual: FAIL: class 'docs': TTFT p99 [0-9.]* s > 15.000 s$" || fail "category class"
"$FLEETSIM" run "$SC" --db "$T/r.db" --set 'slo.classes=[{name: docs, min_tokens_total: 8193, ttft_p99: 200}]' |
  grep -qx "SLO dual: pass" || fail "length class with a loose target, per pool on, should pass"
"$FLEETSIM" run "$SC" --db "$T/r.db" \
  --set 'slo.classes=[{name: chat, max_prompt_tokens: 1000, ttft_p99: 0.01}, {name: docs, category: doc, ttft_p99: 200}]' |
  grep -q "^SLO dual: FAIL: class 'chat': TTFT p99 [0-9.]* s > 0.010 s$" || fail "prompt-length class"
# no slo: section: no SLO line, no "slo" object
sed '/^slo:/d' "$SC" > "$T/noslo.yaml"
"$FLEETSIM" run "$T/noslo.yaml" --db "$T/r.db" | grep -q "^SLO" && fail "SLO line without slo:"
"$FLEETSIM" run "$T/noslo.yaml" --db "$T/r.db" --json | python3 -c \
  "import json,sys; sys.exit('slo' in json.load(sys.stdin)['policies'][0])" || fail "slo object without slo:"

echo "== unknown categories are input errors at their position"
sed 's/^slo: .*/slo: {ttft_p99: 2.0, classes: [{name: c, category: code, ttft_p99: 1}]}/' "$SC" > "$T/badcat.yaml"
set +e
"$FLEETSIM" run "$T/badcat.yaml" --db "$T/r.db" 2> "$T/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "badcat.yaml:22:52: slo class 'c': the workload has no category 'code'" "$T/err" ||
  fail "synthetic category check (rc $rc): $(cat "$T/err")"
printf 'arrival_s,input_tokens,output_tokens,category\n0,100,10,chat\n0.5,100,10,chat\n' > "$T/t.csv"
cat > "$T/trace.yaml" <<'Y'
name: t
workload: {trace: t.csv}
model: llama-3.1-8b
slo:
  ttft_p99: 2
  classes:
    - {name: chat, category: chat, ttft_p99: 1}
    - {name: docs, category: doc, ttft_p99: 9}
policies:
  - name: single
    pools:
      - {name: all, gpu: h100, replicas: 1}
Y
set +e
"$FLEETSIM" run "$T/trace.yaml" --db "$T/r.db" 2> "$T/err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "trace.yaml:8:30: slo class 'docs': the workload has no category 'doc'" "$T/err" ||
  fail "trace category check (rc $rc): $(cat "$T/err")"
sed -i '/name: docs/d' "$T/trace.yaml"
"$FLEETSIM" run "$T/trace.yaml" --db "$T/r.db" | grep -qx "SLO single: pass" || fail "trace category class"

echo "== plan: the starved sizes fail with the pool named"
# Keep the scenario's pool shapes (the one-sequence long pool) where the planner tunes them.
notune=()
"$FLEETSIM" plan --help | grep -q -- --no-tune && notune=(--no-tune)
"$FLEETSIM" plan "$SC" --gpus h100 --precisions bf16 --policies dual --db "$T/p.db" --no-report --json \
  "${notune[@]}" > "$T/p.json"
python3 - "$T/p.db" "$T/p.json" <<'PY' || fail "plan"
import json, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
rows = c.execute("select replicas, params, reason from plans where verdict = 'fail'").fetchall()
starved = [r for r in rows if r[2].startswith("pool 'long': TTFT p99")]
o = json.load(open(sys.argv[2]))["options"][0]
print(f"  {len(starved)} of {len(rows)} failing points name pool 'long'; chosen {o['result']['replicas']}")
ok = starved and o["feasible"] and o["result"]["meets_slo"] and o["result"]["replicas"][1] > 1
sys.exit(0 if ok else 1)
PY

echo "== without classes and per_pool: the fleet-only rule as before"
# The old rule recomputed from each run's fleet figures and its scenario's slo: (runs.params).
for f in scenarios/b200-nvfp4-vs-bf16.yaml scenarios/llama70b-h200-code.yaml scenarios/plan_example.yaml \
         scenarios/quickstart.yaml tests/data/scenarios/sweep_small.yaml tests/data/scenarios/slo_starved_pool.yaml; do
  rm -f "$T/o.db"
  "$FLEETSIM" run "$SRC/$f" --db "$T/o.db" --json --set slo.per_pool=false > "$T/o.json"
  python3 - "$T/o.json" "$T/o.db" "$f" <<'PY' || fail "old verdict differs on $f"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
c = sqlite3.connect(sys.argv[2])
for p in d["policies"]:
    params = json.loads(c.execute("select params from runs where run_id = ?", (p["run_id"],)).fetchone()[0])
    slo = params["scenario_file"]["slo"]
    f, s = p["fleet"], p["slo"]
    maxrej = slo.get("max_rejection_rate", 0.001)
    rr = (f["rejected"] + f["unfinished"]) / f["requests"] if f["requests"] else 1
    t, tp = slo.get("ttft_p99", 0), slo.get("tpot_p99", 0)
    if f["requests"] <= 0: want = "no requests in the workload"
    elif rr > maxrej: want = "rejection rate %.4f > %.4f" % (rr, maxrej)
    elif t > 0 and (f["ttft_p99_s"] < 0 or f["ttft_p99_s"] > t): want = "TTFT p99 %.3f s > %.3f s" % (f["ttft_p99_s"], t)
    elif tp > 0 and f["tpot_p99_s"] > tp: want = "TPOT p99 %.4f s > %.4f s" % (f["tpot_p99_s"], tp)
    else: want = ""
    print(f"  {sys.argv[3].split('/')[-1]} {p['policy']}: pass={s['pass']} {s['reason']!r}")
    if s["pass"] != (want == "") or s["reason"] != want:
        print(f"    expected {want!r}")
        sys.exit(1)
PY
done
echo "OK"
