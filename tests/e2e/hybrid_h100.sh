#!/usr/bin/env bash
# e2e (issue 16): Qwen3.6-27B, a hybrid Gated DeltaNet model, on one 80 GB H100.
# BF16 must serve (vLLM 0.21 allocates recurrent state per running request from the KV
# pool), and NVFP4's smaller weights leave several times the KV blocks, which shows as
# fewer preemptions and a lower P99 TTFT on the same traffic.  Memory figures from
# `fleetsim memory` (hand-checkable: 79.19 GiB x 0.92 - weights - 2.2 - 0.15 - 1.5).
set -u
bin=$1
src=${FS_SOURCE_DIR:-.}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail=0
kb() { "$bin" memory --gpu h100 --model qwen3.6-27b --precision "$1" --json |
	python3 -c "import json,sys; d=json.load(sys.stdin); print(d['kv_blocks'], d['state_blocks'], d['block_size'])"; }
read -r b16 s16 bs16 < <(kb bf16) || { echo "FAIL memory bf16"; exit 1; }
read -r b4 s4 bs4 < <(kb nvfp4) || { echo "FAIL memory nvfp4"; exit 1; }
echo "KV blocks of $bs16 tokens: bf16 $b16, nvfp4 $b4 (state blocks per request $s16)"
python3 - "$b16" "$b4" "$s16" "$bs16" <<'PY' || fail=1
import sys
b16, b4, s, bs = (int(x) for x in sys.argv[1:5])
checks = [
    ("bf16 holds a 32K-token request with its state", b16 > -(-32768 // bs) + s + 1),
    ("block size raised to the state page", bs > 16 and bs % 16 == 0),
    ("nvfp4 has at least 2.5x the blocks", b4 >= 2.5 * b16),
    ("state is 3 blocks per request", s == 3),
]
bad = 0
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
    bad += not ok
sys.exit(1 if bad else 0)
PY
db=$d/r.db
"$bin" run "$src/tests/data/scenarios/hybrid_h100.yaml" --db "$db" -q || { echo "FAIL run"; exit 1; }
q() { sqlite3 -batch -noheader "$db" "SELECT $1 FROM pool_metrics JOIN runs USING(run_id) WHERE policy='$2' AND pool='*'"; }
python3 - "$(q completed bf16)" "$(q rejected bf16)" "$(q completed nvfp4)" "$(q preemptions_per_request bf16)" \
	"$(q preemptions_per_request nvfp4)" "$(q ttft_p99_s bf16)" "$(q ttft_p99_s nvfp4)" <<'PY' || fail=1
import sys
c16, r16, c4 = (int(x) for x in sys.argv[1:4])
p16, p4, t16, t4 = (float(x) for x in sys.argv[4:8])
print(f"bf16: {c16} done, {r16} rejected, {p16} preemptions/request, TTFT p99 {t16:.1f} s; "
      f"nvfp4: {c4} done, {p4}, {t4:.1f} s")
checks = [
    ("bf16 serves every request", c16 == 400 and r16 == 0),
    ("nvfp4 serves every request", c4 == 400),
    ("nvfp4 preempts less", p4 < p16),
    ("nvfp4 P99 TTFT lower", t4 < t16),
]
bad = 0
for name, ok in checks:
    print(("ok   " if ok else "FAIL ") + name)
    bad += not ok
sys.exit(1 if bad else 0)
PY
exit $fail
