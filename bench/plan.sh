#!/bin/bash
# Issue 17, item 8: the planner's full search (TP x engine shape x dual threshold) over
# h100,h200,b200 x bf16,fp8,nvfp4 x single,dual = 18 options, on an hour of a 20 req/s
# trace (bench/plan.yaml: ~70,500 requests), with verification on.  Prints wall and CPU
# seconds (user + sys) and the simulations spent; target: <= 120 s on 2 cores.
#   bash bench/plan.sh [path/to/fleetsim] [extra plan options...]
set -eu
cd "$(dirname "$0")/.."
FS=${1:-build/fleetsim}
shift || true
if [ ! -x "$FS" ]; then
	cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build -j2 --target fleetsim >/dev/null
	FS=build/fleetsim
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
TIMEFORMAT='%R %U %S'
{ time "$FS" plan bench/plan.yaml --gpus h100,h200,b200 --precisions bf16,fp8,nvfp4 --policies single,dual \
	--db "$TMP/plan.db" --out "$TMP/out" --no-report --json "$@" >"$TMP/plan.json"; } 2>"$TMP/time"
read -r wall user sys <"$TMP/time"
python3 - "$TMP/plan.json" "$wall" "$user" "$sys" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
wall, user, sys_ = map(float, sys.argv[2:5])
print(f"plan: {len(d['options'])} options, {d['simulations']} simulations, wall {wall:.1f} s, "
      f"CPU {user + sys_:.1f} s (user {user:.1f} + sys {sys_:.1f}), "
      f"{(user + sys_) / max(d['simulations'], 1):.2f} CPU s per simulation")
for o in d["options"]:
    g = o.get("gpus", "-")
    tp = o.get("tensor_parallel_size", ["-"])
    print(f"  {o['option']:20s} GPUs {g!s:>4} TP {tp} seqs {o['max_num_seqs']} sims {o['simulations']:3d} "
          f"cands {o['candidates_simulated']}/{o['candidates']}")
for b in d["baselines"]:
    print(f"  {b['gpu']}/{b['precision']}: single at vLLM defaults {b['single_defaults_gpus']}, single tuned "
          f"{b['single_tuned_gpus']}, dual tuned {b['dual_tuned_gpus']}")
print(f"recommended: {d['recommended']}")
PY
