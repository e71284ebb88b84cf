#!/usr/bin/env bash
# Issue 17 items 5-6: power from the step model, energy in the database and
# `run --json`, N + k spares and cloud / on-prem cost in `fleetsim plan`, each
# number checked by hand from the others; an old database (without the energy
# columns) still reports and takes new runs.
set -uo pipefail
FLEETSIM=${1:?usage: plan_cost.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
command -v python3 >/dev/null || exit 77
command -v sqlite3 >/dev/null || exit 77
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
S="$SRC/scenarios/plan_example.yaml"

"$FLEETSIM" plan "$S" --gpus h100 --precisions bf16 --policies single --db "$T/p.db" --out "$T/o" \
	--spares 1 --server-price 250000 --power-price 0.12 --json >"$T/plan.json" 2>"$T/err" ||
	fail "plan: $(cat "$T/err")"
python3 - "$T/plan.json" "$T/p.db" <<'PY' || fail "plan JSON checks"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
o = d["options"][0]
assert o["feasible"], o
g = o["gpus"]
close = lambda a, b, r=1e-9: abs(a - b) <= r * max(1.0, abs(b))
# Power: 140 W idle .. 700 W TDP per H100; mean draw from the simulated steps.
assert 140 <= o["power_w_per_gpu"] <= 700, o["power_w_per_gpu"]
assert close(o["power_kw"], g * o["power_w_per_gpu"] / 1000)
assert close(o["energy_mwh_per_year"], o["power_kw"] * 8760 / 1000)
assert 0 < o["compute_utilisation"] <= o["busy_share"] <= 1, (o["compute_utilisation"], o["busy_share"])
assert close(o["energy_per_mtok_j"], 1e6 / o["tokens_per_joule"], 1e-6)
# The DB row of the chosen fleet has the same energy figures.
h = sqlite3.connect(sys.argv[2])
e, p, u, tpj, mk, tps, n = h.execute(
    "SELECT energy_j, avg_power_w, utilisation, tokens_per_joule, makespan_s, output_tps, gpus"
    " FROM pool_metrics WHERE run_id = ? AND pool = '*'", (o["result"]["run_id"],)).fetchone()
assert close(p, e / mk, 1e-9) and close(p / n, o["power_w_per_gpu"], 1e-9), (p, e, mk)
assert close(tpj, tps * mk / e, 1e-9) and close(u, o["compute_utilisation"])
# Redundancy and cost by hand: 8-GPU servers, 1 spare, $2.99/GPU-h cloud.
c = o["cost"]
servers = -(-g // 8)
spare = min(8, g)  # cloud: GPUs to replace one failed server's share of the fleet
assert c["servers"] == servers and c["spare_servers"] == 1 and c["spare_gpus"] == spare, c
assert close(c["cloud_usd_per_year"], (g + spare) * o["price_per_gpu_hour"] * 8760)
assert c["onprem_servers"] == servers + 1
assert close(c["onprem_capex_usd_per_year"], (servers + 1) * 250000 / 4)
kw = (o["power_kw"] * 1000 + ((servers + 1) * 8 - g) * 140) / 1000
assert close(c["onprem_power_kw"], kw), (c["onprem_power_kw"], kw)
assert close(c["onprem_energy_usd_per_year"], kw * 1.3 * 8760 * 0.12)
assert close(c["onprem_tco_usd_per_year"], c["onprem_capex_usd_per_year"] + c["onprem_energy_usd_per_year"])
print("  plan: %d GPUs, %.0f W/GPU, %.3f tok/J, utilisation %.1f %% (busy %.1f %%), cloud $%.0f, TCO $%.0f"
      % (g, o["power_w_per_gpu"], o["tokens_per_joule"], 100 * o["compute_utilisation"],
         100 * o["busy_share"], c["cloud_usd_per_year"], c["onprem_tco_usd_per_year"]))
PY
grep -q "Redundancy: N + 1" "$T/o/report.md" || fail "report: no redundancy statement"
grep -q "compute utilisation" "$T/o/report.md" || fail "report: no utilisation"
grep -q "on-prem TCO/year" "$T/o/report.md" || fail "report: no on-prem column"
grep -q "Redundancy: N + 1" "$T/o/report.html" || fail "report.html: no redundancy statement"

# Availability target: u = 48 / 2048, 2 servers -> N + 2 (P = 0.999949).
"$FLEETSIM" plan "$S" --gpus h100 --precisions bf16 --policies single --db "$T/p.db" --no-report \
	--gpus-per-server 8 --availability 0.9999 --mtbf-h 2000 --mttr-h 48 --json >"$T/av.json" 2>"$T/err" ||
	fail "plan --availability: $(cat "$T/err")"
python3 - "$T/av.json" <<'PY' || fail "availability checks"
import json, sys
from math import comb
o = json.load(open(sys.argv[1]))["options"][0]
c, u = o["cost"], 48 / 2048
n = c["servers"]
cdf = lambda k: sum(comb(n + k, i) * u**i * (1 - u)**(n + k - i) for i in range(k + 1))
k = next(k for k in range(50) if cdf(k) >= 0.9999)
assert c["spare_servers"] == k and abs(c["availability"] - cdf(k)) < 1e-12, (c, k, cdf(k))
PY

# Usage errors: exit 2 with the option named.
for bad in "--spares -1" "--pue 0" "--pue 0.5" "--power-price -1" "--server-price 0" "--availability 0.99" \
	"--availability 1.5 --mtbf-h 1 --mttr-h 1" "--spares 1 --availability 0.9 --mtbf-h 1 --mttr-h 1" \
	"--gpus-per-server 0" "--amortization-years 0"; do
	# shellcheck disable=SC2086
	"$FLEETSIM" plan "$S" --db "$T/e.db" --no-report $bad >/dev/null 2>"$T/err"; rc=$?
	[ "$rc" = 2 ] || fail "plan $bad: exit $rc, want 2"
	opt=${bad%% *}
	grep -q -- "${opt#--}" "$T/err" || fail "plan $bad: message does not name the option: $(cat "$T/err")"
done

# run --json has the energy figures; an old database without the columns still
# reports and is appended to.
"$FLEETSIM" run "$S" --db "$T/r.db" --policy single --json >"$T/run.json" 2>"$T/err" || fail "run: $(cat "$T/err")"
python3 -c "
import json, sys
d = json.load(open('$T/run.json'))
s = json.dumps(d)
for k in ('energy_j', 'avg_power_w', 'utilisation', 'tokens_per_joule', 'energy_per_mtok_j'):
    assert '\"%s\"' % k in s, k
" || fail "run --json lacks energy fields"
for col in energy_j avg_power_w utilisation tokens_per_joule energy_per_mtok_j; do
	sqlite3 "$T/r.db" "ALTER TABLE pool_metrics DROP COLUMN $col" || fail "drop $col"
done
"$FLEETSIM" report --db "$T/r.db" --out "$T/rep" >/dev/null 2>"$T/err" || fail "report on an old db: $(cat "$T/err")"
"$FLEETSIM" run "$S" --db "$T/r.db" --policy single >/dev/null 2>"$T/err" || fail "run on an old db: $(cat "$T/err")"
[ "$(sqlite3 "$T/r.db" "SELECT count(*) FROM pool_metrics WHERE energy_j IS NULL AND pool = '*'")" = 1 ] ||
	fail "old row should have NULL energy"
[ "$(sqlite3 "$T/r.db" "SELECT count(*) FROM pool_metrics WHERE energy_j > 0 AND pool = '*'")" = 1 ] ||
	fail "new row should have energy"
echo OK
