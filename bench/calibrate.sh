#!/bin/bash
# Calibrate the step-time model on the Splitwise reference rows and check it on held-out
# configurations with `fleetsim step` itself.
#   bash bench/calibrate.sh [path/to/fleetsim]
#
# Per data set (Llama-2-70B on A100, TP 2/4/8; BLOOM-176B on H100, TP 8):
#  1. `fleetsim calibrate --holdout-every 4 --out FIT.yaml`: every 4th distinct
#     configuration (tp, prompt_size, batch_size, token_size, in sorted order) is held
#     out of the fit with all its repeated measurements.  Rows faster than the ideal
#     roofline (100 % of peak FLOPs, bandwidth and link, no overhead) are physically
#     impossible and are excluded from fit and evaluation; they are counted below.
#  2. For every held-out configuration: `fleetsim step --gpu FIT.yaml --tp TP
#     --prefill PROMPT --prefill-batch BATCH --batch BATCH --context PROMPT+TOKENS/2`
#     (BATCH prompts prefilled in one step; one decode step of BATCH sequences at the
#     generation's mean context), compared with each measured row of it.
#  3. MAPE and worst case over those rows, PASS when both MAPEs are under 10 %.
# Exit status 0 even on FAIL (this is a report); 1 when a command fails.
set -eu
cd "$(dirname "$0")/.."
FS=${1:-build/fleetsim}
if [ ! -x "$FS" ]; then
	cmake -S . -B build >/dev/null
	make -C build -j"$(nproc)" fleetsim >/dev/null
	FS=build/fleetsim
fi
CSV=${FS_SHARED_DIR:-../shared}/reference/splitwise_perf_a100.csv
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# json_num KEY < json: the number after "KEY": in fleetsim's JSON output.
json_num() {
	awk -v k="\"$1\"" '{ i = index($0, k); if (i) { s = substr($0, i + length(k));
		sub(/^[ \t]*:[ \t]*/, "", s); sub(/[,} \t].*$/, "", s); print s; exit } }'
}

# check GPU MODEL CSV_MODEL CSV_HARDWARE
check() {
	local gpu=$1 model=$2 csv_model=$3 csv_hw=$4 fit=$TMP/$1.yaml
	local tp prompt batch gen set pred ps ds

	echo "== $model on $gpu (CSV rows: $csv_model / $csv_hw)"
	"$FS" calibrate "$CSV" --gpu "$gpu" --model "$model" --hardware "$csv_hw" --holdout-every 4 \
		--out "$fit" --verbose >"$TMP/cal.txt"
	# Fitted values and calibrate's own summary (everything before the per-config table).
	sed -n '1,/^ *tp  *prompt/p' "$TMP/cal.txt" | sed '$d'
	: >"$TMP/pred.txt"
	while read -r tp prompt batch gen set; do
		pred=$("$FS" step --gpu "$fit" --model "$model" --tp "$tp" --prefill "$prompt" \
			--prefill-batch "$batch" --batch "$batch" --context $((prompt + gen / 2)) --json)
		ps=$(json_num prefill_s <<<"$pred")
		ds=$(json_num decode_step_s <<<"$pred")
		echo "$tp $prompt $batch $gen $ps $ds" >>"$TMP/pred.txt"
	done < <(awk '$1 ~ /^[0-9]+$/ && $5 == "held" { print $1, $2, $3, $4, $5 }' "$TMP/cal.txt")
	# Configuration counts from calibrate's table; errors over the held-out CSV rows.
	awk -v m="$csv_model" -v hw="$csv_hw" -v gpu="$gpu" '
		FNR == NR && FILENAME ~ /cal.txt$/ { if ($1 ~ /^[0-9]+$/) cnt[$5]++; next }
		FILENAME ~ /pred.txt$/ { p[$1 " " $2 " " $3 " " $4] = $5 " " $6; next }
		FNR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["model"] == m && $col["hardware"] == hw {
			k = $col["tensor_parallel"] " " $col["prompt_size"] " " $col["batch_size"] " " $col["token_size"]
			if (!(k in p)) next
			split(p[k], v, " ")
			ep = v[1] / ($col["prompt_time"] / 1000) - 1; if (ep < 0) ep = -ep
			ed = v[2] / ($col["token_time"] / 1000) - 1; if (ed < 0) ed = -ed
			sp += ep; sd += ed; n++
			if (ep > wp) wp = ep
			if (ed > wd) wd = ed
		}
		END {
			printf "  configurations: %d fit, %d held out, %d excluded as faster than the ideal roofline\n",
				cnt["fit"], cnt["held"], cnt["bad"]
			if (n == 0) { print "  no held-out rows"; exit 1 }
			mp = 100 * sp / n; md = 100 * sd / n
			printf "  fleetsim step on %d held-out rows: prefill MAPE %.2f %% (worst %.2f %%), decode MAPE %.2f %% (worst %.2f %%)\n",
				n, mp, 100 * wp, md, 100 * wd
			printf "  %s: %s (target: both MAPEs < 10 %%)\n", gpu, (mp < 10 && md < 10) ? "PASS" : "FAIL"
		}' "$TMP/cal.txt" "$TMP/pred.txt" FS=, "$CSV"
	echo
}

check a100 llama-2-70b llama2-70b a100-80gb
check h100 bloom-176b bloom-176b h100-80gb
