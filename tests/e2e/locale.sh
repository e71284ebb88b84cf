#!/usr/bin/env bash
# e2e: locale and time zone do not change parsing or output.  The same commands run under
# LC_ALL=C/TZ=UTC and under de_DE.UTF-8 (decimal comma) with far-off time zones; their
# stdout (tables and --json), stderr and the database rows (less the host's wall clock)
# must be identical byte for byte.  Inputs carry decimals, exponents and timestamps with
# UTC offsets, which is where a locale or TZ dependence would show.
set -u
bin=${1:?usage: locale.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
de=$(locale -a 2>/dev/null | grep -i -m1 '^de_DE\.utf-\?8$')
if [ -z "$de" ]; then
	# Not generated system-wide: build it into the temp dir (needs the locale sources
	# of Debian's `locales` package) and point glibc there.
	mkdir -p "$T/loc"
	if localedef -i de_DE -f UTF-8 "$T/loc/de_DE.UTF-8" 2>/dev/null; then
		export LOCPATH=$T/loc
		de=de_DE.UTF-8
	else
		echo "SKIP: no de_DE.UTF-8 locale and localedef cannot build one (Debian: apt-get"
		echo "      install locales).  .ci/run installs it."
		exit 77
	fi
fi

cat > "$T/azure.csv" <<'CSV'
TIMESTAMP,ContextTokens,GeneratedTokens
2023-11-16 18:15:46.6805900+00:00,4808,10
2023-11-16 18:15:50.9951690+00:00,3180,8
2023-11-16 18:15:51.2,110,27
2023-11-16 18:15:53.0000001Z,2000,1e2
CSV
sed -i 's/,1e2$/,100/' "$T/azure.csv"
cat > "$T/s.yaml" <<'YAML'
name: locale
seed: 3
workload:
  synthetic:
    requests: 150
    arrival: {process: gamma, rate: 2.5, cv: 1.5}
    input: {dist: lognormal, median: 1.2e3, sigma: 0.75, min: 1, max: 8192}
    output: {dist: lognormal, median: 150.5, sigma: 0.5, min: 1, max: 1024}
model: llama-3.1-8b
slo: {ttft_p99: 1.5, tpot_p99: 0.05}
policies:
  - name: single
    pools:
      - {name: all, gpu: h100, replicas: 1, max_model_len: 8192, gpu_memory_utilization: 0.85}
YAML

run_all() { # DIR: run everything under the current environment, outputs into DIR
	local d=$1
	mkdir -p "$d"
	"$bin" trace stats "$T/azure.csv" > "$d/stats.txt" 2>&1
	"$bin" trace stats "$T/azure.csv" --json > "$d/stats.json" 2>&1
	"$bin" trace stats "$SRC/tests/data/traces/generic.csv.gz" --json > "$d/gz.json" 2>&1
	"$bin" memory --gpu h100 --model llama-3.1-8b --tp 1 --precision bf16 \
		--gpu-memory-utilization 0.85 --json > "$d/memory.json" 2>&1
	"$bin" step --gpu h100 --model llama-3.1-8b --tp 1 --precision bf16 --prefill 1000 \
		--batch 8 --context 1500 > "$d/step.txt" 2>&1
	# --db relative to DIR, so the path printed is the same for every environment.
	(cd "$d" && "$bin" run "$T/s.yaml" --db r.db --requests --json \
		--set workload.synthetic.arrival.rate=3.25 > run.json 2>&1)
	(cd "$d" && "$bin" run "$T/s.yaml" --db r.db > run.txt 2>&1)
	"$bin" trace gen "$SRC/tests/data/traces/synth_spec.yaml" -o "$d/gen.csv" --seed 5 > /dev/null 2>&1
	for t in pool_metrics requests timeseries; do
		sqlite3 -header "$d/r.db" "select * from $t order by 1, 2" > "$d/db_$t.txt"
	done
	sqlite3 "$d/r.db" "select run_id, scenario, policy, params, seed, version, status from runs" \
		> "$d/db_runs.txt"
	rm -f "$d/r.db" "$d"/r.db-*
	# The summary table prints the host's wall time; everything else must match.
	sed -i -E 's/"wall_s(econds)?":[-0-9.e+]*,?//g; s/wall[ a-z_:=]*[0-9.]+ ?s?//g' "$d/run.txt" "$d/run.json"
}

LC_ALL=C TZ=UTC run_all "$T/ref"
n=0
for env in "LC_ALL=$de TZ=UTC" "LC_ALL=C LC_NUMERIC=$de TZ=UTC" "LC_ALL=$de TZ=Pacific/Kiritimati" \
	   "LC_ALL=C TZ=America/St_Johns" "LANG=$de LC_ALL= TZ=Asia/Kathmandu"; do
	n=$((n + 1))
	env $env bash -c "$(declare -f run_all); bin='$bin' T='$T' SRC='$SRC' run_all '$T/alt$n'"
	for f in "$T"/ref/*; do
		b=$(basename "$f")
		if ! cmp -s "$f" "$T/alt$n/$b"; then
			echo "FAIL [$env] $b differs:"
			diff "$f" "$T/alt$n/$b" | head -6
			fail=1
		fi
	done
	[ $fail = 0 ] && echo "ok   [$env]: $(ls "$T/ref" | wc -l) outputs identical"
done
# The reference outputs must be real results, not identical error messages.
grep -q '"requests"' "$T/ref/stats.json" || { echo "FAIL: trace stats gave no result"; fail=1; }
[ -s "$T/ref/db_pool_metrics.txt" ] || { echo "FAIL: run wrote no pool_metrics"; fail=1; }
grep -q '^ *[0-9.]*,' "$T/ref/gen.csv" 2>/dev/null || [ -s "$T/ref/gen.csv" ] || { echo "FAIL: trace gen wrote nothing"; fail=1; }
exit $fail
