#!/usr/bin/env bash
# e2e (issue 19): importing real-world log shapes end to end, as docs/traces.md shows
# them: an epoch-seconds CSV with custom column names, an OpenAI usage JSONL and an
# ISO-timestamp CSV, each through `trace stats` and `fleetsim run`; a workload window
# outside the trace and an unknown columns key are input errors (exit 2); a trace
# spanning 1e7 s runs in bounded time and memory (the sampler coarsens its interval)
# with a makespan of that span, not of the epoch.
set -u
bin=${1:?usage: trace_import.sh FLEETSIM}
src=${FS_SOURCE_DIR:-$(pwd)}
tr=$src/tests/data/traces
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
jget() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# 1. the three shapes through trace stats (the commands of docs/traces.md)
out=$("$bin" trace stats "$tr/gateway_epoch.csv" --columns arrival=timestamp,input=prompt_len,output=completion_len,model=model --json 2> "$T/err")
[ "$(echo "$out" | jget 'd["requests"], round(d["duration_s"], 3), len(d["categories"])')" = "8 5.93 2" ] &&
	ok "epoch CSV: 8 requests over 5.93 s, 2 models" || bad "epoch CSV stats: $out"
grep -qF "arrival column 'timestamp' holds epoch seconds (detected); first request at 2025-03-04 09:20:00 UTC, arrivals re-based to it" "$T/err" &&
	ok "epoch CSV: unit noted" || bad "epoch CSV note: $(cat "$T/err")"
out=$("$bin" trace stats "$tr/openai_usage.jsonl" --json 2> "$T/err")
[ "$(echo "$out" | jget 'd["format"], d["requests"], d["duration_s"], d["all"]["input_tokens"]["max"]')" = "openai 6 7 3011" ] &&
	ok "OpenAI JSONL detected: 6 requests over 7 s" || bad "OpenAI stats: $out"
out=$("$bin" trace stats "$tr/openai_usage.jsonl" --model Qwen/Qwen2.5-7B-Instruct --json 2> /dev/null)
[ "$(echo "$out" | jget 'd["requests"]')" = 2 ] && ok "OpenAI JSONL --model keeps 2" || bad "--model: $out"
out=$("$bin" trace stats "$tr/iso_requests.csv" --columns arrival=time,input=input,output=output,category=tenant --json 2> "$T/err")
[ "$(echo "$out" | jget 'd["requests"], round(d["duration_s"], 3), [c["name"] for c in d["categories"]]')" = "6 5.93 ['acme', 'globex']" ] &&
	ok "ISO CSV: 6 requests over 5.93 s by tenant" || bad "ISO stats: $out"
grep -qF "holds ISO 8601 timestamps (detected)" "$T/err" && ok "ISO CSV: noted" || bad "ISO note: $(cat "$T/err")"

# 2. the same through fleetsim run: makespan from the first request, not from 1970
scen() { # name workload-lines...
	local n=$1
	shift
	{
		echo "name: $n"
		echo "seed: 1"
		echo "workload:"
		for l in "$@"; do echo "  $l"; done
		echo "model: llama-3.1-8b"
		echo "policies:"
		echo "  - name: one"
		echo "    pools:"
		echo "      - {name: all, gpu: h100, replicas: 1, max_model_len: 8192}"
	} > "$T/$n.yaml"
}
runcheck() { # scenario-file scenario-name requests min-makespan
	if ! "$bin" run "$1" --db "$T/r.db" -q 2> "$T/err"; then
		bad "$2: run failed: $(cat "$T/err")"
		return
	fi
	r=$(sqlite3 "$T/r.db" "select p.requests, p.makespan_s, p.gpu_hours from pool_metrics p join runs r using (run_id)
	                        where p.pool='*' and r.scenario='$2'")
	python3 - "$r" "$3" "$4" <<'PY' && ok "$2: run $r (requests|makespan|GPU-hours)" || bad "$2: $r"
import sys
n, m, g = sys.argv[1].split("|")
sys.exit(0 if int(n) == int(sys.argv[2]) and float(sys.argv[3]) < float(m) < 60 and float(g) < 0.02 else 1)
PY
}
# the scenarios docs/traces.md runs
runcheck "$tr/import_epoch.yaml" import-epoch 8 5.9
runcheck "$tr/import_openai.yaml" import-openai 4 7
runcheck "$tr/import_iso.yaml" import-iso 3 3.9
scen gateway "trace: $tr/openai_gateway.jsonl" "model_filter: meta-llama/Llama-3.1-8B-Instruct"
runcheck "$T/gateway.yaml" gateway 4 5

# 3. input errors: exit 2 with where and what
expect2() { # name message
	"$bin" run "$T/$1.yaml" --db "$T/e.db" -q > /dev/null 2> "$T/err"
	rc=$?
	if [ $rc = 2 ] && grep -qF -- "$2" "$T/err"; then ok "$1: exit 2, $2"; else bad "$1: exit $rc: $(cat "$T/err") (want: $2)"; fi
}
scen window "trace: $tr/gateway_epoch.csv" "columns: {arrival: timestamp, input: prompt_len, output: completion_len}" "start: 3600" "duration: 600"
expect2 window "gateway_epoch.csv: workload window (start 3600 s, duration 600 s) selects no request: the trace's 8 requests span 0.000 s to 5.930 s"
scen role "trace: $tr/gateway_epoch.csv" "columns: {arrival: timestamp, prompt: prompt_len}"
expect2 role "role.yaml:5:33: unknown key 'prompt' in columns (known: arrival, input, output, max_tokens, category, hash_ids, prompt_bytes, model)"
scen unit "trace: $tr/iso_requests.csv" "columns: {arrival: time, input: input, output: output}" "time_unit: ms"
expect2 unit "iso_requests.csv:2: time (arrival) '2025-03-04T09:20:00.120Z' is an ISO 8601 timestamp, not a number of milliseconds"

# 4. a trace spanning 1e7 s: bounded samples and time, makespan = the span
python3 -c '
print("arrival_s,input_tokens,output_tokens")
for i in range(2001): print("%d,500,50" % (i * 5000))' > "$T/long.csv"
scen long "trace: $T/long.csv"
start=$(date +%s)
# Memory bound: 4 GiB of address space, or (ASan reserves terabytes of shadow, so no
# ulimit -v there) ASan's own RSS limit, as tests/e2e/hostile.sh does.
vlimit=4194304
if nm "$bin" 2>/dev/null | grep -q __asan_init; then
	vlimit=unlimited
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}hard_rss_limit_mb=4096
fi
if ( ulimit -v "$vlimit" 2> /dev/null; timeout 120 "$bin" run "$T/long.yaml" --db "$T/l.db" -q ); then
	secs=$(( $(date +%s) - start ))
	r=$(sqlite3 "$T/l.db" "select (select makespan_s from pool_metrics where pool='*'), count(*), max(t_s) from timeseries")
	python3 - "$r" "$secs" <<'PY' && ok "1e7 s span: $r (makespan|samples|last sample) in ${secs} s" || bad "1e7 s span: $r in ${secs} s"
import sys
m, n, last = sys.argv[1].split("|")
sys.exit(0 if abs(float(m) / 1e7 - 1) < 1e-3 and int(n) <= 100000 and float(last) == float(m) and int(sys.argv[2]) < 60 else 1)
PY
else
	bad "1e7 s span: run failed or took over 120 s"
fi
exit $fail
