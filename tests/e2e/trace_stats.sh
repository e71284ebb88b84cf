#!/usr/bin/env bash
# e2e: `trace stats --json` on the bundled Azure 2023 code trace matches the
# independent python computation pinned in tests/unit/test_tstats.c; `trace gen` is
# byte-for-byte reproducible and its output reads back.
set -u
bin=$1
src=${FS_SOURCE_DIR:-.}
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail=0
out=$("$bin" trace stats --json "$src/traces/data/azure2023_code.csv") || { echo "FAIL stats exit"; exit 1; }
echo "$out" | python3 -c '
import json, sys
s = json.load(sys.stdin)
a = s["all"]
checks = [("requests", s["requests"], 8819), ("format", s["format"], "azure"),
          ("peak_1s", s["peak_1s_rate_rps"], 67), ("input mean", round(a["input_tokens"]["mean"], 3), 2047.848),
          ("output mean", round(a["output_tokens"]["mean"], 3), 27.883), ("input p50", a["input_tokens"]["p50"], 1469),
          ("duration", round(s["duration_s"], 3), 3435.948)]
bad = 0
for name, got, want in checks:
    print(("ok  " if got == want else "FAIL"), name, got, "want", want)
    bad |= got != want
sys.exit(bad)' || fail=1
"$bin" trace gen "$src/tests/data/traces/synth_spec.yaml" -o "$d/a.csv" --seed 3 2>/dev/null &&
	"$bin" trace gen "$src/tests/data/traces/synth_spec.yaml" -o "$d/b.csv" --seed 3 2>/dev/null ||
	{ echo "FAIL gen"; fail=1; }
if cmp -s "$d/a.csv" "$d/b.csv"; then echo "ok   gen deterministic"; else echo "FAIL gen differs"; fail=1; fi
n=$("$bin" trace stats --json "$d/a.csv" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
if [ "$n" = 2000 ]; then echo "ok   gen reads back 2000"; else echo "FAIL gen read back $n"; fail=1; fi
gzip -c "$src/traces/data/azure2023_code.csv" > "$d/az.csv.gz"
zstd -q -c "$src/traces/data/azure2023_code.csv" > "$d/az.csv.zst" 2>/dev/null || cp "$d/az.csv.gz" "$d/az.csv.zst"
for f in "$d/az.csv.gz" "$d/az.csv.zst"; do
	n=$("$bin" trace stats --json "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')
	if [ "$n" = 8819 ]; then echo "ok   compressed $(basename "$f") 8819"; else echo "FAIL $f: $n"; fail=1; fi
done
exit $fail
