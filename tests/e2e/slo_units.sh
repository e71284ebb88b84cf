#!/usr/bin/env bash
# SLO bounds with units (issue 19 item 5): `ttft_p99: 2s`, `tpot_p99: 50ms` load as the
# same seconds as the bare numbers; a bare TPOT bound above 1 s (or TTFT above 600 s)
# loads but warns "did you mean ms?" at its FILE:LINE:COL; an unknown unit is exit 2
# naming the text and the position.
set -uo pipefail
FLEETSIM=${1:?usage: slo_units.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
S="$SRC/tests/data/scenarios/plan_tune.yaml"
mk() { sed "s/^slo: .*/slo: $1/" "$S" > "$T/$2.yaml"; }

mk '{ttft_p99: 1.0, tpot_p99: 0.05, max_rejection_rate: 0.001}' secs
mk '{ttft_p99: 1000ms, tpot_p99: 50ms, max_rejection_rate: 0.001}' units
mk '{ttft_p99: 1s, tpot_p99: 50, max_rejection_rate: 0.001}' bare50
mk '{ttft_p99: 1s, tpot_p99: 50 msec}' badunit
mk '{ttft_p99: 1200, tpot_p99: 0.05}' bigttft

"$FLEETSIM" run "$T/secs.yaml" --db "$T/a.db" --json --set workload.synthetic.requests=200 > "$T/a.json" 2> "$T/a.err" ||
	fail "seconds: $(cat "$T/a.err")"
"$FLEETSIM" run "$T/units.yaml" --db "$T/b.db" --json --set workload.synthetic.requests=200 > "$T/b.json" 2> "$T/b.err" ||
	fail "units: $(cat "$T/b.err")"
[ -s "$T/b.err" ] && fail "units should not warn: $(cat "$T/b.err")"
python3 - "$T/a.json" "$T/b.json" <<'PY' || fail "units and seconds differ"
import json, sys
a, b = (json.load(open(p))["policies"][0] for p in sys.argv[1:3])
assert a["slo"] == b["slo"], (a["slo"], b["slo"])
assert a["fleet"]["slo_attainment"] == b["fleet"]["slo_attainment"]
PY
# the run report reads the SLO in seconds (params.slo), not the text as written
"$FLEETSIM" report --db "$T/b.db" --out "$T/rep" > /dev/null 2> "$T/r.err" || fail "report: $(cat "$T/r.err")"
grep -q "SLO: TTFT p99 &le; 1 s, TPOT p99 &le; 0.05 s" "$T/rep/index.html" ||
	fail "report SLO: $(grep -o 'SLO: [^<]*' "$T/rep/index.html")"
"$FLEETSIM" run "$T/bare50.yaml" --db "$T/c.db" -q --set workload.synthetic.requests=50 2> "$T/c.err" ||
	fail "bare 50 should load: $(cat "$T/c.err")"
grep -q "warning: $T/bare50.yaml:14:[0-9]*: slo.tpot_p99 50 is read as seconds; did you mean 50ms?" "$T/c.err" ||
	fail "no ms warning: $(cat "$T/c.err")"
"$FLEETSIM" run "$T/bigttft.yaml" --db "$T/c.db" -q --set workload.synthetic.requests=50 2> "$T/d.err" ||
	fail "ttft 1200 should load"
grep -q "slo.ttft_p99 1200 is read as seconds" "$T/d.err" || fail "no ttft warning: $(cat "$T/d.err")"
"$FLEETSIM" run "$T/badunit.yaml" --db "$T/e.db" -q 2> "$T/e.err"
rc=$?
[ "$rc" = 2 ] || fail "unknown unit: exit $rc"
grep -q "badunit.yaml:14:[0-9]*: unknown time unit 'msec' in '50 msec'" "$T/e.err" || fail "message: $(cat "$T/e.err")"
[ -e "$T/e.db" ] && [ "$(sqlite3 "$T/e.db" 'select count(*) from runs' 2>/dev/null || echo 0)" != 0 ] && fail "runs written on bad input"
# --set takes units too
"$FLEETSIM" plan "$S" --gpus h100 --precisions bf16 --policies single --no-verify --no-report --no-tune \
	--set 'slo.tpot_p99=50ms' --set workload.synthetic.requests=200 --db "$T/p.db" --json > "$T/p.json" 2> "$T/p.err" ||
	fail "plan with units: $(cat "$T/p.err")"
python3 -c "import json,sys; d=json.load(open('$T/p.json')); assert abs(d['slo']['tpot_p99_s']-0.05)<1e-12, d['slo']" ||
	fail "plan slo"
echo OK
