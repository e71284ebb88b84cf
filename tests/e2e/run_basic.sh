#!/usr/bin/env bash
# End-to-end checks of `fleetsim run` against hand-derived and analytical values:
#  1. light load: TTFT p50 equals the step model's prefill time (within 5 %)
#  2. overload: queueing and preemptions grow, throughput saturates at the capacity
#     derived from the memory plan and step model (within 15 %), GPU always busy
#  3. same scenario + seed twice: identical pool_metrics rows
#  4. conservation in the database; --requests rows; --no-drain leaves unfinished
set -euo pipefail
FLEETSIM=${1:?usage: run_basic.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
q() { sqlite3 "$1" "$2"; }
j() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

echo "== light load: TTFT p50 vs predicted prefill"
"$FLEETSIM" run "$SRC/tests/data/scenarios/light.yaml" --db "$T/l.db" -q
ttft=$(q "$T/l.db" "select ttft_p50_s from pool_metrics where pool='*'")
pre=$("$FLEETSIM" step --gpu h100 --model llama-3.1-8b --tp 1 --precision bf16 --prefill 1000 \
      --batch 1 --context 1000 --json | j "d['prefill_s']")
python3 - "$ttft" "$pre" <<'PY' || fail "light-load TTFT p50 off the predicted prefill"
import sys
t, p = map(float, sys.argv[1:])
print(f"  ttft_p50={t:.6f}s predicted_prefill={p:.6f}s ratio={t/p:.4f}")
sys.exit(0 if abs(t / p - 1) < 0.05 else 1)
PY

echo "== overload: saturation at the model's capacity"
"$FLEETSIM" run "$SRC/tests/data/scenarios/overload.yaml" --db "$T/o.db" -q
"$FLEETSIM" run "$SRC/tests/data/scenarios/overload.yaml" --db "$T/o.db" -q \
  --set workload.synthetic.arrival.rate=80
kvtok=$("$FLEETSIM" memory --gpu h100 --model llama-3.1-8b --tp 1 --precision bf16 \
        --gpu-memory-utilization 0.3 --json | j "d['kv_tokens']")
# Concurrency is KV-bound: each sequence ends at 1000 + 200 tokens.
n=$(( kvtok / 1200 ))
dec=$("$FLEETSIM" step --gpu h100 --model llama-3.1-8b --tp 1 --precision bf16 --prefill 1000 \
      --batch "$n" --context 1100 --json | j "d['decode_step_s']")
python3 - "$T/o.db" "$n" "$dec" "$pre" <<'PY' || fail "overload checks"
import sqlite3, sys
db, n, dec, pre = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
c = sqlite3.connect(db)
rows = c.execute("select run_id, throughput_rps, gpu_busy_s, makespan_s, preemptions, ttft_p50_s "
                 "from pool_metrics where pool='*' order by run_id").fetchall()
(r1, x1, b1, m1, p1, t1), (r2, x2, b2, m2, p2, t2) = rows
w1 = c.execute("select max(waiting) from timeseries where run_id=?", (r1,)).fetchone()[0]
w2 = c.execute("select max(waiting) from timeseries where run_id=?", (r2,)).fetchone()[0]
# A request holds one of n slots for 200 decode steps of decode_step_s and costs one
# 1000-token prefill of GPU time: capacity = 1 / (200 * dec / n + pre) requests/s.
cap = 1.0 / (200 * dec / n + pre)
print(f"  throughput at 40 and 80 req/s offered: {x1:.3f} {x2:.3f}; analytical capacity {cap:.3f}")
print(f"  busy/makespan {b1/m1:.4f}; preemptions {p1} {p2}; max waiting {w1} {w2}; ttft p50 {t1:.1f}s {t2:.1f}s")
ok = abs(x2 / x1 - 1) < 0.02 and abs(x1 / cap - 1) < 0.15 and b1 / m1 > 0.98
ok = ok and p1 > 0 and p2 > 0 and w2 > w1 > 500 and t2 > t1 > 10
sys.exit(0 if ok else 1)
PY

echo "== determinism: same scenario and seed, identical pool_metrics"
"$FLEETSIM" run "$SRC/scenarios/quickstart.yaml" --db "$T/d.db" -q
"$FLEETSIM" run "$SRC/scenarios/quickstart.yaml" --db "$T/d.db" -q
cols=$(q "$T/d.db" "select group_concat(name) from pragma_table_info('pool_metrics') where name != 'run_id'")
a=$(q "$T/d.db" "select $cols from pool_metrics where run_id in (1,2) order by run_id, pool")
b=$(q "$T/d.db" "select $cols from pool_metrics where run_id in (3,4) order by run_id, pool")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "pool_metrics differ between identical runs"
"$FLEETSIM" run "$SRC/scenarios/quickstart.yaml" --db "$T/d.db" -q --seed 43 --set workload.retime=poisson
c=$(q "$T/d.db" "select $cols from pool_metrics where run_id in (5,6) order by run_id, pool")
[ "$a" != "$c" ] || fail "a different seed with Poisson re-timing gave identical results"
echo "  identical: $(echo "$a" | wc -l) rows"

echo "== conservation, --requests, --no-drain"
"$FLEETSIM" run "$SRC/tests/data/scenarios/overload.yaml" --db "$T/c.db" -q --requests --no-drain
r=$(q "$T/c.db" "select requests, completed, rejected, unfinished from pool_metrics where pool='*'")
IFS='|' read -r req comp rej unf <<<"$r"
[ "$req" -eq $((comp + rej + unf)) ] || fail "requests $req != $comp + $rej + $unf"
[ "$unf" -gt 0 ] || fail "--no-drain under overload left no unfinished requests"
nr=$(q "$T/c.db" "select count(*) from requests")
[ "$nr" -eq "$req" ] || fail "requests table has $nr rows, expected $req"
nd=$(q "$T/c.db" "select count(*) from requests where status='done'")
[ "$nd" -eq "$comp" ] || fail "requests table has $nd done rows, expected $comp"
echo "  $req = $comp completed + $rej rejected + $unf unfinished; $nr request rows"
echo "PASS"
