#!/usr/bin/env bash
# bench/run.sh [FLEETSIM] - issue 8's performance suite: paper scale (3.6 M requests,
# single and dual pool), a steady decode-heavy pool, and scaling in requests and in
# fleet size.  Prints one table row per run and whether each target is met.
#
# Then a threshold sweep (see SWEEP_POINTS below) and, at full size, the planner's search
# (bench/plan.sh).
# Each run is `fleetsim run SCENARIO --policy P -q --json` under /usr/bin/time (one
# process, one core): wall and CPU (user + sys) seconds and peak RSS come from
# time(1), requests and engine steps from the JSON.  QUICK=1 divides the request
# counts by 8 (the paper-scale targets are then not judged).
# Needs /usr/bin/time (Debian/Ubuntu package `time`) and python3.
set -euo pipefail
bin=$(realpath "${1:-build/fleetsim}")
here=$(cd "$(dirname "$0")" && pwd)
div=1
[ "${QUICK:-0}" = 1 ] && div=8
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0

printf '%-26s %9s %10s %7s %7s %9s %10s %8s  %s\n' scenario requests steps wall_s cpu_s req/cpu_s steps/cpu_s rss_MiB "targets"
# run NAME SCENARIO POLICY TARGETS [--set ...]; TARGETS: comma list of
# cpu<S, rss<MiB, rps>N, sps>N (judged on CPU seconds).
# REPS=N (default 1) runs it N times and keeps the run with the least CPU time: for
# sub-second runs on a shared machine the best of a few is the figure that says
# something about fleetsim rather than about its neighbours.
run() {
	local name=$1 sc=$2 pol=$3 targets=$4 best=""
	shift 4
	for _ in $(seq "${REPS:-1}"); do
		(cd "$here" && /usr/bin/time -f '%e %U %S %M' -o "$T/time1" "$bin" run "$sc" --db "$T/r.db" \
			--policy "$pol" -q --json "$@" > "$T/out.json")
		rm -f "$T/r.db"
		local c
		c=$(awk 'END {print $2 + $3}' "$T/time1")
		if [ -z "$best" ] || awk -v a="$c" -v b="$best" 'BEGIN {exit !(a < b)}'; then
			best=$c
			cp "$T/time1" "$T/time"
		fi
	done
	python3 - "$name" "$T/out.json" "$T/time" "$targets" <<'PY' || fails=$((fails + 1))
import json, sys
name, out, tm, targets = sys.argv[1:]
d = json.load(open(out))
f = d["policies"][0]["fleet"]
wall, user, sys_, rss = open(tm).read().split()[-4:]
cpu = float(user) + float(sys_)
rss_mib = int(rss) / 1024
req, steps = f["requests"], f["steps"]
rps, sps = req / cpu, steps / cpu
res, ok = [], True
for t in filter(None, targets.split(",")):
    k, v = t[:3], float(t[4:])
    got = {"cpu": cpu, "rss": rss_mib, "rps": rps, "sps": sps}[k]
    met = got < v if t[3] == "<" else got > v
    ok &= met
    res.append(f"{t} {'met' if met else 'NOT MET'}")
print(f"{name:<26} {req:9d} {steps:10d} {float(wall):7.2f} {cpu:7.2f} {rps:9.0f} {sps:10.0f} {rss_mib:8.1f}  {'; '.join(res)}")
sys.exit(0 if ok else 1)
PY
}

n=$((3600000 / div))
# Issue 8's targets: <= 10 CPU-s and <= 1 GiB.  (Until issue 13 this also judged
# rps>500000; the operator step model prices A100 steps ~2.5x shorter, so the same
# hour now takes 13.2 M engine steps instead of 3.0 M: see bench/RESULTS.md.)
pt="cpu<10,rss<1024"
[ "$div" = 1 ] || pt=""
run "paper single 3.6M" paper.yaml single "$pt" --set workload.synthetic.requests=$n
run "paper dual 3.6M" paper.yaml dual "$pt" --set workload.synthetic.requests=$n
# Issue 20: an overloaded fleet of the same size (bench/overload.yaml: 300 replicas,
# max_num_seqs 16, queues of ~10^6 requests by the end of the hour): <= 5 CPU-s and
# <= 512 MiB.
ot="cpu<5,rss<512"
[ "$div" = 1 ] || ot=""
run "overloaded 3.6M" overload.yaml single "$ot" --set workload.synthetic.requests=$n
REPS=${DECODE_REPS:-5} run "decode pool (best of ${DECODE_REPS:-5})" decode.yaml decode "sps>20000000"
# The same pool under the default balance (least_tokens; round robin above): not judged.
REPS=${DECODE_REPS:-5} run "  same, least_tokens" decode.yaml decode "" \
	--set policies.0.router.balance=least_tokens

echo "-- scaling in requests (single pool, 320 replicas, 1,000 req/s)"
for k in 1 2 4 8; do
	run "requests $((k * 450000 / div))" paper.yaml single "" --set workload.synthetic.requests=$((k * 450000 / div))
done
echo "-- scaling in fleet size (load per replica fixed: 3.125 req/s per replica, same duration)"
for r in 80 160 320 640; do
	run "replicas $r" paper.yaml single "" --set "policies.0.pools.0.replicas=$r" \
		--set "workload.synthetic.arrival.rate=$((r * 1000 / 320))" \
		--set "workload.synthetic.requests=$((r * 450000 / 320 / div))"
done
echo "-- idle replicas cost nothing (450,000 requests at 1,000 req/s, growing fleet)"
for r in 320 1280; do
	run "replicas $r, same load" paper.yaml single "" --set "policies.0.pools.0.replicas=$r" \
		--set "workload.synthetic.requests=$((450000 / div))"
done
echo "-- sweep: 64-point threshold sweep at paper scale, 2 jobs (bench/sweep.yaml: the dual policy)"
# SWEEP_POINTS (default 8, of 64) runs that many thresholds of 32:2048:+32 (every
# 64/SWEEP_POINTS-th one) and extrapolates linearly to 64 points; the target is
# judged on CPU seconds / 2 (two cores, one run per core), because wall time on
# a shared machine says more about the neighbours than about fleetsim.
sp=${SWEEP_POINTS:-8}
st=$((32 * (64 / sp)))
sreq=$((3600000 / div))
(cd "$here" && /usr/bin/time -f '%e %U %S %M' -o "$T/time" "$bin" sweep sweep.yaml --db "$T/s.db" \
	--param "policies.0.router.threshold=$st:2048:+$st" \
	--set workload.synthetic.requests=$sreq --jobs 2 -q --json > "$T/sweep.json")
rm -f "$T/s.db"
python3 - "$T/sweep.json" "$T/time" "$sreq" "$div" <<'PY' || fails=$((fails + 1))
import json, sys
out, tm, sreq, div = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
d = json.load(open(out))
wall, user, sys_, rss = open(tm).read().split()[-4:]
cpu = float(user) + float(sys_)
pts = d["points_run"]
req = pts * sreq
est = cpu * 64 / pts / 2
judged = div == 1
met = est < 360
tgt = f"64 pts: {est:.0f} s on 2 cores (cpu/2 x 64/{pts}), wall x 64/{pts} = {float(wall) * 64 / pts:.0f} s; <360 s " + (("met" if met else "NOT MET") if judged else "not judged")
print(f"{'sweep ' + str(pts) + ' pts x ' + str(sreq // 1000) + 'K':<26} {req:9d} {'-':>10} {float(wall):7.2f} {cpu:7.2f} {req / cpu:9.0f} {'-':>10} {int(rss) / 1024:8.1f}  {tgt}")
sys.exit(0 if met or not judged else 1)
PY
# Issue 20: the plan-search case (bench/plan.sh: h100,h200,b200 x bf16,fp8,nvfp4 x
# single,dual with the TP / shape / threshold search on an hour of a 20 req/s trace):
# <= 120 s on 2 cores.  Skipped with QUICK=1.
if [ "$div" = 1 ]; then
	TIMEFORMAT='%R'
	pw=$( { time bash "$here/plan.sh" "$bin" > "$T/plan.txt"; } 2>&1 )
	head -1 "$T/plan.txt"
	if awk -v w="$pw" 'BEGIN {exit !(w <= 120)}'; then
		echo "plan search: ${pw} s wall (<= 120 s met)"
	else
		echo "plan search: ${pw} s wall (<= 120 s NOT MET)"
		fails=$((fails + 1))
	fi
fi
[ "$fails" = 0 ] && echo "all judged targets met" || echo "$fails run(s) missed a target"
