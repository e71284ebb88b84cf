#!/usr/bin/env bash
# e2e: each malformed trace gives its FILE:LINE message on stderr and exit status 2;
# --skip-bad-rows counts the bad row and reports it.
set -u
bin=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail=0
hdr='arrival_s,input_tokens,output_tokens'
check() { # name expected-status expected-stderr-substring file [args...]
	local name=$1 want=$2 msg=$3 file=$4
	shift 4
	"$bin" trace stats "$@" "$file" > /dev/null 2> "$d/err"
	local rc=$?
	if [ "$rc" != "$want" ] || ! grep -qF -- "$msg" "$d/err"; then
		echo "FAIL $name: exit $rc (want $want), stderr: $(cat "$d/err") (want: $msg)"
		fail=1
	else
		echo "ok   $name: exit $rc, $msg"
	fi
}
printf '%s\n1,10,5\n2,-3,5\n' "$hdr" > "$d/neg.csv"
check negative 2 "neg.csv:3: input tokens -3 is negative" "$d/neg.csv"
printf '%s\n1,10,5\n2,ten,5\n' "$hdr" > "$d/nan.csv"
check non-numeric 2 "nan.csv:3: input tokens 'ten' is not an integer" "$d/nan.csv"
printf '%s\n1,10\n' "$hdr" > "$d/cols.csv"
check missing-column 2 "cols.csv:2: expected 3 columns, found 2" "$d/cols.csv"
printf '%s\n5,10,5\n4.5,10,5\n3,10,5\n' "$hdr" > "$d/back.csv"
check backwards 2 "back.csv:4: timestamp goes backwards by 2.000 s (tolerance 1.000 s)" "$d/back.csv"
: > "$d/empty.csv"
check empty 2 "empty.csv: empty trace file" "$d/empty.csv"
printf 'foo,bar\n1,2\n' > "$d/unknown.csv"
check unknown-format 2 "unknown.csv:1: unknown column 'foo'" "$d/unknown.csv"
check forced-format 2 "header is a csv header, not azure" "$d/neg.csv" --format azure
check missing-file 2 "nosuch.csv: cannot open" "$d/nosuch.csv"
check skip 0 "skipped 1 bad rows" "$d/neg.csv" --skip-bad-rows
printf 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9,10,5\n2023-13-16 18:17:04.0,10,5\n' > "$d/az.csv"
check bad-timestamp 2 "az.csv:3: bad timestamp '2023-13-16 18:17:04.0'" "$d/az.csv"
printf '{"timestamp": 0, "input_length": 10, "output_length": "x"}\n' > "$d/mc.jsonl"
check mooncake-type 2 'mc.jsonl:1: "output_length" is not a number' "$d/mc.jsonl"
printf 'not gzip' | gzip -c | head -c 15 > "$d/trunc.csv.gz"
check truncated-gzip 2 "truncated gzip data" "$d/trunc.csv.gz"
# Column mapping and time units (issue 19): FILE:LINE and the column in each message.
m=arrival=timestamp,input=prompt_len,output=completion_len
printf 'time,prompt_len,completion_len\n1741080005,10,5\n' > "$d/nocol.csv"
check map-missing-column 2 "nocol.csv:1: column 'timestamp' (columns.arrival) is not in the header (columns: time, prompt_len, completion_len)" "$d/nocol.csv" --columns $m
printf 'timestamp,prompt_len,completion_len\n2025-03-04T09:20:05Z,10,5\n' > "$d/isoms.csv"
check map-iso-as-ms 2 "isoms.csv:2: timestamp (arrival) '2025-03-04T09:20:05Z' is an ISO 8601 timestamp, not a number of milliseconds (time_unit: ms" "$d/isoms.csv" --columns $m --time-unit ms
printf 'timestamp,prompt_len,completion_len\n1741080005,10,5\n1741080009,10,5\n1741080002,10,5\n' > "$d/dec.csv"
check map-decreasing-epoch 2 "dec.csv:4: timestamp goes backwards by 7.000 s (tolerance 1.000 s) in column 'timestamp'" "$d/dec.csv" --columns $m
printf 'timestamp,prompt_len,completion_len\n1741080005000,10,5\n' > "$d/ms.csv"
check epoch-ms-as-s 2 "ms.csv:2: timestamp (arrival) 1.74108e+12 is too large as seconds (epoch milliseconds" "$d/ms.csv" --columns $m --time-unit s
check unknown-role 2 "unknown role 'arival' (known: arrival, input, output, max_tokens, category, hash_ids, prompt_bytes, model)" "$d/ms.csv" --columns arival=timestamp
check unknown-unit 2 "unknown --time-unit 'min'" "$d/ms.csv" --time-unit min
check model-absent 2 "no request has model 'gpt-5' (6 rows have other models: gpt-4o-mini-2024-07-18, Qwen/Qwen2.5-7B-Instruct)" "${FS_SOURCE_DIR:-.}/tests/data/traces/openai_usage.jsonl" --model gpt-5
printf '{"created": 1741080005, "usage": {"prompt_tokens": 10}}\n' > "$d/oa.jsonl"
check openai-missing-key 2 'oa.jsonl:1: missing "usage.completion_tokens"' "$d/oa.jsonl"
# Detected units are noted; long gaps and spans are warned about (exit 0).
check note-epoch-ms 0 "arrival column 'timestamp' holds epoch milliseconds (detected); first request at 2025-03-04 09:20:05 UTC, arrivals re-based to it" "$d/ms.csv" --columns $m
printf 'timestamp,prompt_len,completion_len\n1741080005,10,5\n1741090005,10,5\n1741990005,10,5\n' > "$d/gaps.csv"
check gap-warning 0 "2 gaps longer than an hour between requests (longest 250.0 h, after 10000 s)" "$d/gaps.csv" --columns $m
check span-warning 0 "requests span 10.5 days (over a week)" "$d/gaps.csv" --columns $m
exit $fail
