#!/usr/bin/env bash
# End-to-end checks of `fleetsim plan` on the example traffic (scenarios/plan_example.yaml):
#  1. H100/H200/B200 x BF16/NVFP4 x single/dual with a 0.5,1,2 what-if finishes in
#     under 5 minutes (timed, printed) and every option meets the SLO on both seeds
#  2. more load never needs fewer GPUs (what-if), cost = GPUs x 8760 x $/GPU-hour
#  3. every simulation is a `plans` row linked to a run; pass rows meet the SLO
#  4. report.html is self-contained (no external URL, plots inlined) and renders in
#     headless Chromium: the screenshot is kept as build-dir/plan_report_screenshot.png
#  5. manifests carry the recommended fleet's replicas, TP and threshold
set -euo pipefail
FLEETSIM=${1:?usage: plan_report.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
BUILD=$(cd "$(dirname "$FLEETSIM")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$T/p.db" "$1"; }

echo "== plan: 3 GPUs x 2 precisions x 2 layouts, what-if 0.5,1,2"
t0=$(date +%s.%N)
"$FLEETSIM" plan "$SRC/scenarios/plan_example.yaml" --gpus h100,h200,b200 --precisions bf16,nvfp4 \
	--policies single,dual --load-scale 0.5,1,2 --out "$T/out" --db "$T/p.db" --json > "$T/plan.json"
t1=$(date +%s.%N)
wall=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
echo "  wall time: ${wall} s (limit 300 s)"
python3 -c "import sys; sys.exit(0 if $wall < 300 else 1)" || fail "plan took ${wall} s"

python3 - "$T/plan.json" <<'PY' || fail "plan JSON checks"
import json, sys
d = json.load(open(sys.argv[1]))
opts = d["options"]
assert len(opts) == 12, len(opts)
for o in opts:
    assert o["feasible"], o
    r, v = o["result"], o["verify"]
    # A trace replay: verified on a shifted window of the trace (the seed is moot).
    assert r["meets_slo"] and v["meets_slo"] and v["seed"] == r["seed"], o["option"]
    assert o["verification"]["checks"][0]["traffic"].startswith("trace window"), o["verification"]
    assert abs(o["annual_cost_usd"] - o["gpus"] * 8760 * o["price_per_gpu_hour"]) < 1e-6 * o["annual_cost_usd"] + 1e-6
    assert o["gpu_hours_per_day"] == o["gpus"] * 24
ranks = sorted(o["rank"] for o in opts)
assert ranks == list(range(1, 13)), ranks
best = [o for o in opts if o["rank"] == 1][0]
assert best["option"] == d["recommended"]
assert d["baseline"] == "h100/bf16/single"
w = d["what_if"]
assert [x["load_scale"] for x in w] == [0.5, 1, 2]
for k in range(12):
    g = [x["gpus"][k]["gpus"] for x in w]
    assert g == sorted(g), (w[0]["gpus"][k]["option"], g)
print(f"  {len(opts)} options, {d['simulations']} simulations; recommended {d['recommended']} "
      f"({best['gpus']} GPUs); what-if GPUs of the baseline: {[x['gpus'][0]['gpus'] for x in w]}")
PY

echo "== plans table"
sims=$(python3 -c "import json; print(json.load(open('$T/plan.json'))['simulations'])")
pid=$(python3 -c "import json; print(json.load(open('$T/plan.json'))['plan_id'])")
rows=$(q "select count(*) from plans p join runs r using (run_id) where plan_id = $pid and phase in ('search','split','verify')")
[ "$rows" = "$sims" ] || fail "plan $pid: $rows search rows linked to runs, $sims simulations"
[ "$(q "select count(distinct load_scale) from plans where phase in ('search','split')")" = 3 ] || fail "expected plans at 3 loads"
bad=$(q "select count(*) from plans p join pool_metrics m using (run_id) where m.pool = '*' and p.verdict = 'pass' and (m.ttft_p99_s > 2.0 or m.tpot_p99_s > 0.1)")
[ "$bad" = 0 ] || fail "$bad pass rows break the SLO"
nplans=$(q "select count(distinct plan_id) from plans")
[ "$nplans" = 3 ] || fail "expected 3 plan ids (x1, x0.5, x2), got $nplans"
echo "  $rows rows for plan $pid (x1), $(q 'select count(*) from plans') in all, $nplans plans"

echo "== report"
for f in report.html report.md plots/gpus_per_option.png plots/cost_per_option.png plots/ttft_cdf.png \
	 plots/headroom.png plots/gpus_vs_load.png manifests/router-configmap.yaml manifests/kueue-localqueues.yaml; do
	[ -s "$T/out/$f" ] || fail "missing $f"
done
grep -q 'data:image/png;base64,' "$T/out/report.html" || fail "plots not inlined"
if grep -Eq '(src|href)="(https?:)?//' "$T/out/report.html"; then fail "report.html loads external resources"; fi
[ "$(grep -c 'data:image/png;base64,' "$T/out/report.html")" -ge 5 ] || fail "fewer than 5 plots inlined"
grep -q 'NVFP4' "$T/out/report.md" || fail "no NVFP4 caveat"
grep -q 'calibration' "$T/out/report.md" || fail "no calibration source"
grep -q 'Load headroom' "$T/out/report.md" || fail "no headroom"

CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -n "$CHROME" ]; then
	shot="$BUILD/plan_report_screenshot.png"
	rm -f "$shot"
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars --screenshot="$shot" \
		--window-size=1280,2000 "file://$T/out/report.html" >/dev/null 2>&1 || true
	[ -s "$shot" ] || fail "chromium wrote no screenshot"
	head -c 4 "$shot" | od -An -c | grep -q 'P   N   G' || fail "screenshot is not a PNG"
	size=$(stat -c %s "$shot")
	[ "$size" -gt 50000 ] || fail "screenshot only $size bytes: blank page?"
	echo "  chromium screenshot: $shot ($size bytes)"
else
	echo "  SKIP: no chromium on this machine, screenshot not taken"
fi

echo "== manifests"
python3 - "$T/plan.json" "$T/out/manifests" <<'PY' || fail "manifests do not carry the planned values"
import json, sys, os, re
d = json.load(open(sys.argv[1])); m = sys.argv[2]
best = [o for o in d["options"] if o["rank"] == 1][0]
files = sorted(f for f in os.listdir(m)
               if f not in ("router-configmap.yaml", "kueue-localqueues.yaml", "kueue-clusterqueue.yaml"))
assert len(files) == len(best["result"]["replicas"]), files
text = {f: open(os.path.join(m, f)).read() for f in files}
for k, reps in enumerate(best["result"]["replicas"]):
    hits = [f for f, t in text.items() if re.search(rf"^  replicas: {reps}$", t, re.M)
            and f"--tensor-parallel-size={best['tensor_parallel_size'][k]}" in t]
    assert hits, (k, reps)
cm = open(os.path.join(m, "router-configmap.yaml")).read()
assert f'threshold: "{best["result"].get("threshold", 0)}"' in cm, cm
print(f"  {len(files)} pool manifest(s) for {best['option']}: replicas {best['result']['replicas']}")
PY
echo "OK"
