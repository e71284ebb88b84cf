#!/usr/bin/env bash
# Re-run the paper comparison (scenarios/paper/llama3-70b-a100.yaml) on A100 BF16 and
# on H100 / H200 / B200 with BF16 and NVFP4, same GPU count (8 replicas x TP4) for both
# policies, and print the markdown tables used in docs/validation.md.
#   usage: scenarios/paper/validate.sh [path/to/fleetsim] > tables.md
# Per configuration: run 1 with a 4+4 split gives alpha and the capacity model's
# per-GPU rates; run 2 splits the 8 replicas by the work each class brings
# (alpha/mu_short : (1-alpha)/mu_long_on_long) and is the one reported.
set -eu
bin=${1:-./build/fleetsim}
here=$(cd "$(dirname "$0")" && pwd)
sc=$here/llama3-70b-a100.yaml
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
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
python3 - "$d" <<'PY'
import json, sys, os
d = sys.argv[1]
cfgs = ["a100-bf16", "h100-bf16", "h100-nvfp4", "h200-bf16", "h200-nvfp4", "b200-bf16", "b200-nvfp4"]
print("| GPU | weights | split short+long | alpha | rho | closed-form saving | work-weighted | preempt/req single -> dual | P99 TTFT single -> dual | short P99 TTFT single -> dual | mis-routes |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for c in cfgs:
    j = json.load(open(os.path.join(d, c + ".json")))
    s, du = j["policies"][0], j["policies"][1]
    v = du["vs_baseline"]
    g, p = c.split("-")
    split = "+".join(str(x["replicas"]) for x in du["pools"])
    print(f"| {g} | {p} | {split} | {v['alpha']:.3f} | {v['rho']:.2f} | {100*v['saving_closed_form']:.1f} % | "
          f"{100*v['saving_closed_form_work']:.1f} % | {v['preemptions_per_request_base']:.4f} -> {v['preemptions_per_request']:.4f} | "
          f"{s['fleet']['ttft_p99_s']:.2f} s -> {du['fleet']['ttft_p99_s']:.2f} s ({100*v['ttft_p99_change']:+.0f} %) | "
          f"{v['short_ttft_p99_base_s']:.2f} s -> {v['short_ttft_p99_s']:.2f} s ({100*v['short_ttft_p99_change']:+.0f} %) | {v['misroutes']} |")
PY
