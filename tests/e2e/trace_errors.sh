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
exit $fail
