#!/usr/bin/env bash
# e2e: valgrind memcheck finds no leaks and no errors in `fleetsim run` on a small
# scenario (with --requests, so the DB writer runs too), `trace stats` on a compressed
# trace, and `sweep` / `plan` on small inputs once those commands exist (`--help` exits
# 0); helgrind finds no data race in a two-thread sweep.  Skipped (exit 77, ctest Skipped) unless FS_VALGRIND=1, where valgrind is not installed, or for a sanitizer
# build (ASan and valgrind do not mix).
set -u
bin=${1:?usage: valgrind.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
# Minutes under memcheck: ctest runs it only when asked (.ci/run sets FS_VALGRIND=1).
[ "${FS_VALGRIND:-0}" = 1 ] || { echo "skip: set FS_VALGRIND=1 to run (minutes)"; exit 77; }
command -v valgrind > /dev/null || { echo "skip: valgrind not installed"; exit 77; }
if nm "$bin" 2>/dev/null | grep -q __asan_init; then echo "skip: sanitizer build"; exit 77; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
cat > "$T/small.yaml" <<'YAML'
name: small
seed: 5
workload:
  synthetic:
    requests: 40
    arrival: {process: poisson, rate: 4}
    input: {dist: lognormal, median: 500, sigma: 0.5, min: 1, max: 4096}
    output: {dist: constant, value: 20}
model: llama-3.1-8b
slo: {ttft_p99: 2.0, tpot_p99: 0.05}
policies:
  - name: one
    pools:
      - {name: all, gpu: h100, replicas: 1, max_model_len: 8192}
  - name: two
    router: {type: token_budget, threshold: 1024, estimator: max_tokens, spillover: true}
    pools:
      - {name: short, gpu: h100, replicas: 1, max_model_len: 4096}
      - {name: long, gpu: h100, replicas: 1, max_model_len: 8192}
YAML
vg() { # NAME ARGS...: run under memcheck; fail on any leak or error (99) or an exit
	# status other than $WANT (default 0)
	local name=$1
	shift
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		--log-file="$T/$name.vg" "$bin" "$@" > "$T/$name.out" 2>&1
	local rc=$?
	local summary
	summary=$(grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost" "$T/$name.vg" |
		sed 's/^==[0-9]*== *//' | tr '\n' ';')
	if [ "$rc" != "${WANT:-0}" ]; then
		echo "FAIL $name: exit $rc; $summary"
		grep -A12 -E "definitely lost in|Invalid|uninitialised" "$T/$name.vg" | head -40
		tail -3 "$T/$name.out"
		fail=1
	else
		echo "ok   $name: $summary"
	fi
}
vg run run "$T/small.yaml" --db "$T/r.db" --requests -q
vg run_json run "$T/small.yaml" --db "$T/r.db" --json --set policies.0.pools.0.replicas=2
vg trace_stats trace stats "$SRC/tests/data/traces/generic.csv.zst" --json
WANT=2 vg bad_input run "$SRC/tests/hostile/billion_laughs.yaml" --db "$T/x.db"
[ -f "$T/x.db" ] && { echo "FAIL: bad input created a database"; fail=1; }
if "$bin" sweep --help > /dev/null 2>&1; then
	vg sweep sweep "$T/small.yaml" --db "$T/s.db" --jobs 2 --param policies.0.pools.0.max_num_seqs=64,128
	# Workers share one parsed scenario (scenario_src) and the trace: helgrind finds no
	# unsynchronised access (cJSON's own error static aside: helgrind.supp says why).
	valgrind --tool=helgrind --error-exitcode=99 --suppressions="$SRC/tests/e2e/helgrind.supp" \
		--log-file="$T/helgrind.vg" "$bin" sweep "$T/small.yaml" --db "$T/h.db" --jobs 2 \
		--param policies.0.pools.0.max_num_seqs=32,64,128,256 > "$T/helgrind.out" 2>&1
	rc=$?
	summary=$(grep -E "ERROR SUMMARY" "$T/helgrind.vg" | sed 's/^==[0-9]*== *//')
	if [ "$rc" != 0 ]; then
		echo "FAIL sweep_helgrind: exit $rc; $summary"
		grep -A14 -E "Possible data race|lock order" "$T/helgrind.vg" | head -40
		tail -3 "$T/helgrind.out"
		fail=1
	else
		echo "ok   sweep_helgrind: $summary"
	fi
else
	echo "note: 'fleetsim sweep --help' fails; sweep not checked"
fi
if "$bin" plan --help > /dev/null 2>&1; then
	vg plan plan "$T/small.yaml" --db "$T/p.db" --gpus h100 --precisions bf16 --policies single --out "$T/plan"
else
	echo "note: 'fleetsim plan --help' fails; plan not checked"
fi
exit $fail
