#!/usr/bin/env bash
# Re-run the paper comparison (scenarios/paper/llama3-70b-a100.yaml) on A100 BF16 and
# on H100 / H200 / B200 with BF16 and NVFP4, same GPU count (8 replicas x TP4) for both
# policies (section 1), then sizes both layouts with `fleetsim plan` at an attainable
# SLO (section 2), and prints docs/validation.md in full:
#   usage: scenarios/paper/validate.sh [path/to/fleetsim] > docs/validation.md
# About 30 s on 2 cores.
# Per configuration: run 1 with a 4+4 split gives alpha and the capacity model's
# per-GPU rates; run 2 splits the 8 replicas by the work each class brings
# (alpha/mu_short : (1-alpha)/mu_long_on_long) and is the one reported.
set -eu
bin=${1:-./build/fleetsim}
here=$(cd "$(dirname "$0")" && pwd)
sc=$here/llama3-70b-a100.yaml
d=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && echo "kept $d" >&2 || rm -rf "$d"' EXIT
rate=${RATE:-6}
for cfg in a100:bf16 h100:bf16 h100:nvfp4 h200:bf16 h200:nvfp4 b200:bf16 b200:nvfp4; do
	g=${cfg%%:*} p=${cfg##*:}
	sets=(--set quantization=$p --set workload.target_rate=$rate)
	for k in 0 1; do sets+=(--set policies.1.pools.$k.gpu=$g); done
	sets+=(--set policies.0.pools.0.gpu=$g)
	"$bin" run "$sc" --db "$d/r.db" -q --json "${sets[@]}" > "$d/a.json"
	split=$(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["policies"][1]["vs_baseline"]
a, ms, ml = c["alpha"], c["mu_short_rps_per_gpu"], c["mu_long_on_long_rps_per_gpu"]
ws, wl = a / ms, (1 - a) / ml
s = min(7, max(1, round(8 * ws / (ws + wl))))
print(s, 8 - s)' "$d/a.json")
	set -- $split
	"$bin" run "$sc" --db "$d/r.db" -q --json "${sets[@]}" \
		--set policies.1.pools.0.replicas=$1 --set policies.1.pools.1.replicas=$2 > "$d/$g-$p.json"
done
# Section 2: sizing.  SLO per GPU x precision, derived from the hardware, not tuned:
#  TTFT p99 <= 1.5 x the planner's floor (the P99 of unloaded prefill: the long
#    documents' prompts alone, in 8192-token chunks on an idle replica) rounded up to
#    a whole second: a fleet can never beat the floor, so an SLO below it is unattainable;
#  TPOT p99 <= 1/4 of one step prefilling a full 8192-token chunk (`fleetsim step`): with
#    chunked prefill, a decode that shares a step with a chunk waits for the chunk, so
#    an Azure-code request (~28 output tokens) may share about 7 such steps at the P99.
for cfg in a100:bf16 h100:bf16 h100:nvfp4 h200:bf16 h200:nvfp4 b200:bf16 b200:nvfp4; do
	g=${cfg%%:*} p=${cfg##*:}
	kv=bf16; [ "$p" = bf16 ] || kv=fp8
	"$bin" plan "$sc" --gpus "$g" --precisions "$p" --policies single,dual --no-report \
		--db "$d/p.db" --out "$d/po" --set slo.ttft_p99=0.001 --json > "$d/floor.json"
	chunk=$("$bin" step --gpu "$g" --model llama-3-70b --tp 4 --precision "$p" --kv-cache-dtype "$kv" \
		--prefill 8192 --batch 16 --context 4000 --json)
	read -r ttft tpot < <(python3 -c '
import json, math, sys
f = json.load(open(sys.argv[1]))
floor = max(o["ttft_p99_floor_s"] for o in f["options"])
chunk = json.loads(sys.argv[2])["prefill_s"]
print(math.ceil(1.5 * floor), round(chunk / 4, 3), file=open(sys.argv[3], "w"))
print(math.ceil(1.5 * floor), round(chunk / 4, 3))' "$d/floor.json" "$chunk" "$d/slo-$g-$p.txt")
	cp "$d/floor.json" "$d/floor-$g-$p.json"
	echo "$chunk" > "$d/chunk-$g-$p.json"
	"$bin" plan "$sc" --gpus "$g" --precisions "$p" --policies single,dual --no-report \
		--db "$d/p.db" --out "$d/po" --set slo.ttft_p99="$ttft" --set slo.tpot_p99="$tpot" --json \
		> "$d/plan-$g-$p.json"
done
# SLO sensitivity on A100 BF16: the same plan at a tighter and a looser TPOT bound.
read -r ttft0 _ < "$d/slo-a100-bf16.txt"
for f in 0.1 0.5; do
	"$bin" plan "$sc" --gpus a100 --precisions bf16 --policies single,dual --no-report \
		--db "$d/p.db" --out "$d/po" --set slo.ttft_p99="$ttft0" \
		--set slo.tpot_p99=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['prefill_s']*$f,3))" "$d/chunk-a100-bf16.json") \
		--json > "$d/sens-$f.json"
done
python3 "$here/validation_doc.py" "$d" "$rate"
