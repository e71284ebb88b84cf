#!/usr/bin/env bash
# `fleetsim report`: a sweep report and a run report write valid PNG and SVG files,
# each with its .gp and .dat, and an index.html that links every plot and tables the
# numbers; unknown ids are input errors.
set -euo pipefail
FLEETSIM=${1:?usage: sweep_report.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
SC="$SRC/tests/data/scenarios/sweep_small.yaml"

check_dir() { # DIR: every PNG is a PNG, every SVG parses as XML with an <svg> root
	python3 - "$1" <<'PY'
import glob, os, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
pngs = sorted(glob.glob(os.path.join(d, "*.png")))
assert pngs, "no PNG written"
for p in pngs:
    b = os.path.splitext(p)[0]
    with open(p, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n", p + ": not a PNG"
    root = ET.parse(b + ".svg").getroot()
    assert root.tag.endswith("svg"), b + ".svg: root is " + root.tag
    for ext in (".gp", ".dat"):
        assert os.path.getsize(b + ext) > 0, b + ext + " missing or empty"
html = open(os.path.join(d, "index.html")).read()
for p in pngs:
    assert os.path.basename(p) in html, os.path.basename(p) + " not in index.html"
print(f"  {len(pngs)} plots valid (PNG signature, SVG XML, .gp, .dat), all in index.html")
PY
}

echo "== sweep report"
"$FLEETSIM" sweep "$SC" --db "$T/s.db" --jobs 2 -q
"$FLEETSIM" report --db "$T/s.db" --sweep 1 --out "$T/rep" --json > "$T/r.json"
cat "$T/r.json"
check_dir "$T/rep" || fail "sweep report plots"
for f in gpu_hours_vs_workload.synthetic.arrival.rate preemptions_per_request_vs_workload.synthetic.arrival.rate \
	 ttft_p99_vs_workload.synthetic.arrival.rate traffic_share_vs_policies.0.pools.0.max_num_seqs ttft_cdf tpot_cdf; do
	[ -s "$T/rep/$f.png" ] || fail "missing $f.png"
done
ls "$T/rep"/timeseries_*.png > /dev/null || fail "no time series plot"
# One line per max_num_seqs value for single (3) and one for dual, which does not use
# policies.0's max_num_seqs (not 3 identical lines), plus the SLO line at 1 s.
GP="$T/rep/ttft_p99_vs_workload.synthetic.arrival.rate.gp"
grep -q "title 'SLO = 1'" "$GP" || fail "no SLO line"
n=$(grep -c "index [0-9]" "$GP")
[ "$n" = 4 ] || fail "expected 4 lines in the TTFT p99 plot, got $n"
grep -q "set xlabel 'arrival rate (req/s)'" "$GP" || fail "x label not from the label table"
# Against max_num_seqs, dual is one flat line per rate, without point marks.
n=$(grep "with lines lw 2 lc" "$T/rep/ttft_p99_vs_policies.0.pools.0.max_num_seqs.gp" | grep -c "(does not use max_num_seqs)'" || true)
[ "$n" = 3 ] || fail "expected 3 flat dual lines against max_num_seqs, got $n"
# Every series its own (colour, dash, point) triple.
n=$(grep -o "lc rgb '#[0-9A-F]*' dt [0-9]* pt [0-9]*" "$GP" | sort -u | wc -l || true)
[ "$n" = 4 ] || fail "expected 4 distinct styles, got $n"
# CDFs: best, worst and baseline runs, the SLO marked.
grep -q "title 'best" "$T/rep/ttft_cdf.gp" && grep -q "baseline" "$T/rep/ttft_cdf.gp" || fail "CDF lacks best/baseline"
grep -q "set arrow 1 from 1, graph 0" "$T/rep/ttft_cdf.gp" || fail "CDF lacks the SLO line"
grep -q "CDFs show three runs" "$T/rep/index.html" || fail "index.html does not say which runs the CDFs show"
# The table shows the database's numbers: point 4 single's GPU-hours.
gh=$(sqlite3 "$T/s.db" "select printf('%.4g', gpu_hours) from sweeps s join pool_metrics m using (run_id) where point = 4 and s.policy = 'single' and pool = '*'")
grep -q "<td>$gh</td>" "$T/rep/index.html" || fail "index.html lacks GPU-hours $gh"
# Re-running the saved script redraws the plot (the user's restyle path).
(cd "$T/rep" && rm ttft_cdf.png && gnuplot ttft_cdf.gp && [ -s ttft_cdf.png ]) || fail "saved .gp does not redraw"

echo "== run report (two policies of one fleetsim run, with requests: exact CDFs)"
"$FLEETSIM" run "$SC" --db "$T/run.db" --requests -q
"$FLEETSIM" report --db "$T/run.db" --run 1 --out "$T/rr" > /dev/null
check_dir "$T/rr" || fail "run report plots"
[ -s "$T/rr/traffic_share.png" ] && [ -s "$T/rr/ttft_cdf.png" ] || fail "run report lacks traffic share or CDF"
grep -q "dual" "$T/rr/index.html" || fail "run report does not include the sibling policy"
grep -q "set arrow 1 from 1, graph 0" "$T/rr/ttft_cdf.gp" && grep -q "title 'p99 = 0.99'" "$T/rr/ttft_cdf.gp" ||
	fail "run report CDF lacks the SLO marks"
"$FLEETSIM" report --db "$T/s.db" --sweep 1 --baseline 2 --out "$T/rb" > /dev/null || fail "--baseline"
grep -q "baseline" "$T/rb/ttft_cdf.gp" || fail "--baseline run not in the CDF"

echo "== bad ids"
set +e
"$FLEETSIM" report --db "$T/s.db" --sweep 99 --out "$T/x" 2> /dev/null; rc1=$?
"$FLEETSIM" report --db "$T/s.db" --run 999 --out "$T/x" 2> /dev/null; rc2=$?
"$FLEETSIM" report --db "$T/s.db" 2> /dev/null; rc3=$?
"$FLEETSIM" report --db "$T/s.db" --sweep 1 --baseline 9999 --out "$T/x" 2> /dev/null; rc4=$?
set -e
echo "  exits: unknown sweep $rc1, unknown run $rc2, missing --out $rc3, unknown baseline $rc4"
[ "$rc1" = 2 ] && [ "$rc2" = 2 ] && [ "$rc3" = 2 ] && [ "$rc4" = 2 ] || fail "bad ids must exit 2"
echo "OK"
