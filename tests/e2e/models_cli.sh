#!/bin/bash
# End-to-end checks of the model-layer commands: memory, step, models, calibrate.
# Usage: bash tests/e2e/models_cli.sh /path/to/fleetsim   (cwd = repo root)
set -u
FS=${1:?usage: models_cli.sh FLEETSIM}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0

# expect_err STATUS PATTERN CMD...: exit status and a one-line stderr matching PATTERN.
expect_err() {
	local want=$1 pat=$2; shift 2
	"$FS" "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
	if [ "$rc" -ne "$want" ] || ! grep -q -- "$pat" "$TMP/err" || [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
		echo "FAIL: fleetsim $* -> exit $rc, stderr: $(cat "$TMP/err")"; fail=1
	else
		echo "ok: fleetsim $* -> exit $rc: $pat"
	fi
}

expect_err 2 "does not fit.*short by" memory --gpu h100 --model llama-3-70b --tp 1 --precision bf16
expect_err 2 "unknown GPU 'h999'" memory --gpu h999 --model llama-3-70b --tp 4 --precision bf16
expect_err 2 "unknown model 'llama-9'" step --gpu h100 --model llama-9 --tp 4 --precision bf16 --prefill 1 --batch 1 --context 1
expect_err 2 "tp must be a positive integer" memory --gpu h100 --model llama-3-70b --tp 0 --precision bf16
expect_err 2 "tp must be a positive integer" step --gpu h100 --model llama-3-70b --tp -2 --prefill 1 --batch 1 --context 1
expect_err 2 "nvfp4" memory --gpu h100 --model llama-3-70b --tp 4 --precision nvfp4 --kv-cache-dtype nvfp4
printf '{"hidden_size": 4096,\n "num_hidden_layers": }\n' >"$TMP/config.json"
expect_err 2 "config.json:2: not valid JSON" memory --gpu h100 --model "$TMP/config.json" --tp 1 --precision bf16
printf 'name: x\nbase: h100\nhbm: 80\n' >"$TMP/gpu.yaml"
expect_err 2 "gpu.yaml:3:1: unknown key 'hbm'" memory --gpu "$TMP/gpu.yaml" --model llama-3.1-8b --tp 1 --precision bf16

# JSON fields: KV blocks for Llama-3-70B BF16 on 4 x H100 with vLLM 0.21's memory terms
# (hand-computed in tests/unit/test_memory.c).
out=$("$FS" memory --gpu h100 --model llama-3-70b --tp 4 --precision bf16 --vllm-version 0.21 --json)
# 0.21 on an H100: 79.19 GiB x 0.92 (the release's default) - 32.854 weights - 2.2
# activation - 2.1 non-torch (TP > 1) - 1.5 CUDA graphs = 34.2007 GiB; / (16 x 81920 B)
# = 28017.2 blocks.
if echo "$out" | grep -q '"kv_blocks":28017'; then echo "ok: memory --json kv_blocks 28017"; else echo "FAIL: memory --json: $out"; fail=1; fi
out=$("$FS" step --gpu a100 --model llama-2-70b --tp 4 --precision bf16 --prefill 8192 --batch 1 --context 512 --json)
if echo "$out" | grep -q '"prefill_s":' && echo "$out" | grep -q '"decode_step_s":'; then
	echo "ok: step --json has prefill_s and decode_step_s: $out"
else
	echo "FAIL: step --json: $out"; fail=1
fi
"$FS" models --json | grep -q '"name":"deepseek-v3"' && echo "ok: models --json lists deepseek-v3" || { echo "FAIL: models --json"; fail=1; }
# Every GPU file key (models/gpu.c's table) is listed for each GPU, once with its value
# and once in "sources" (where it comes from), plus step_overhead_s.
out=$("$FS" models --json)
out=${out%%'"models":'*} # the "gpus" array only
for k in name display calib_source hbm_gib mem_bw_tbps bf16_tflops fp8_tflops fp4_tflops link_gbps \
	power_w price_per_hour compute_eff mem_eff step_overhead_ms link_latency_us link_eff attn_eff \
	prefill_seq_tokens gemm_half kernel_us ew_eff attn_half_q car_latency_us hbm_device_gib; do
	n=$(echo "$out" | grep -o "\"$k\":" | wc -l)
	[ "$n" -eq 10 ] || { echo "FAIL: models --json has '$k' $n times, want 10 (value + source, per GPU)"; fail=1; }
done
n=$(echo "$out" | grep -o '"step_overhead_s":' | wc -l)
[ "$n" -eq 5 ] || { echo "FAIL: models --json has step_overhead_s $n times, want 5"; fail=1; }
echo "$out" | grep -q '"name":"h100","display":"NVIDIA H100 SXM5 80GB","calib_source":"[^"]*","hbm_gib":80,"mem_bw_tbps":3.35,' &&
	echo "ok: models --json lists every GPU key, h100 mem_bw_tbps 3.35" || { echo "FAIL: models --json h100: $out"; fail=1; }
echo "$out" | grep -q '"mem_eff":"fitted: Vidur H100 small-M GEMMs' &&
	echo "ok: models --json says where h100 mem_eff comes from" || { echo "FAIL: models --json sources"; fail=1; }
# step --breakdown: the parts add up to the step.
out=$("$FS" step --gpu h100 --model llama-3.1-8b --prefill 4096 --batch 8 --context 1000 --breakdown --json)
if python3 - "$out" <<'PY'
import json, sys
o = json.loads(sys.argv[1])
for step, total in (("prefill_breakdown", o["prefill_s"]), ("decode_breakdown", o["decode_step_s"])):
    parts = o[step]
    s = sum(v for k, v in parts.items() if k != "graph_tokens")
    assert abs(s - total) <= 1e-9 * total, (step, s, total)
assert o["decode_breakdown"]["graph_tokens"] == 8 and o["prefill_breakdown"]["graph_tokens"] == 4096
PY
then echo "ok: step --breakdown parts add up"; else echo "FAIL: step --breakdown: $out"; fail=1; fi
for c in memory step calibrate models; do
	"$FS" $c --help >/dev/null || { echo "FAIL: $c --help"; fail=1; }
done

# Calibrate writes a GPU file that the other commands accept as --gpu.
CSV=${FS_SOURCE_DIR:-.}/models/data/splitwise_perf_a100.csv
if [ -f "$CSV" ]; then
	if "$FS" calibrate "$CSV" --gpu a100 --model llama-2-70b --out "$TMP/a100.yaml" --json >"$TMP/cal.json" &&
	   "$FS" step --gpu "$TMP/a100.yaml" --model llama-2-70b --tp 4 --prefill 512 --batch 1 --context 576 >/dev/null; then
		echo "ok: calibrate --out round trip: $(cat "$TMP/cal.json")"
	else
		echo "FAIL: calibrate round trip"; fail=1
	fi
else
	echo "skip: $CSV missing"
fi

# calibrate --operators: a fit written as a GPU file the other commands accept; bad rows
# named by file:line and column; nothing written when the fit cannot run.
D=${FS_SOURCE_DIR:-.}/models/data
if "$FS" calibrate --operators --gpu h100 --attention "$D/attention_kernels.csv" \
	--attention "$D/attention_kernels_short.csv" --attention-engine FlashAttention-3 --out "$TMP/h100a.yaml" >"$TMP/op.txt" &&
   grep -q "attention   fit" "$TMP/op.txt" &&
   "$FS" step --gpu "$TMP/h100a.yaml" --model llama-3.1-8b --prefill 4096 --batch 1 --context 10 >/dev/null; then
	echo "ok: calibrate --operators --out round trip"
else
	echo "FAIL: calibrate --operators round trip: $(cat "$TMP/op.txt")"; fail=1
fi
head -1 "$D/vidur/h100_llama-2-7b_ops.csv" >"$TMP/ops.csv"
sed -n 2p "$D/vidur/h100_llama-2-7b_ops.csv" >>"$TMP/ops.csv"
sed -n 3p "$D/vidur/h100_llama-2-7b_ops.csv" | sed 's/^[^,]*,[^,]*,[^,]*,/0.1,0.1,fast,/' >>"$TMP/ops.csv"
expect_err 2 "ops.csv:3: column 'attn_pre_proj_ms': 'fast' is not a number" calibrate --operators --gpu h100 --ops "$TMP/ops.csv" --out "$TMP/never.yaml"
[ ! -e "$TMP/never.yaml" ] && echo "ok: no GPU file after a failed fit" || { echo "FAIL: GPU file written after a failed fit"; fail=1; }
printf 'all_reduce_ms,rank,num_workers,size\n0.05,0,8,1048576\n' >"$TMP/ar.csv"
expect_err 2 "too few rows to fit all-reduce" calibrate --operators --gpu h100 --allreduce "$TMP/ar.csv"
expect_err 2 "need --operators" calibrate --gpu h100 --ops "$TMP/ops.csv"
"$FS" calibrate --operators --check --holdout-every 0 --gpu b200 --gemm "$D/b200_gemm.csv" >"$TMP/chk.txt" &&
	grep -q "operator check of b200" "$TMP/chk.txt" && echo "ok: calibrate --operators --check" ||
	{ echo "FAIL: calibrate --check: $(cat "$TMP/chk.txt")"; fail=1; }
exit $fail
