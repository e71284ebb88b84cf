#!/usr/bin/env bash
# e2e: outputs fail early and never clobber inputs (issue 15).  A command whose stdout
# cannot be written exits 1; an unusable output directory is refused before any
# simulation (no database created, nothing simulated); an output path that is one of
# the command's inputs is refused (exit 2) and the input is left as it was.
set -u
bin=${1:?usage: outputs_safe.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
# expect RC PATTERN CMD...: exit status RC and PATTERN on stderr.
expect() {
	local want=$1 pat=$2; shift 2
	"$bin" "$@" > "$T/out" 2> "$T/err"; local rc=$?
	if [ "$rc" = "$want" ] && grep -q -- "$pat" "$T/err"; then
		ok "fleetsim $* -> $rc: $pat"
	else
		bad "fleetsim $* -> $rc (want $want), stderr: $(cat "$T/err")"
	fi
}

if [ -w /dev/full ]; then
	"$bin" models --json > /dev/full 2> "$T/err"; rc=$?
	if [ "$rc" = 1 ] && grep -q "writing standard output failed" "$T/err"; then
		ok "--json into a full disk: exit 1"
	else
		bad "--json into /dev/full: exit $rc, $(cat "$T/err")"
	fi
else
	echo "skip /dev/full not writable here"
fi

# Unusable output directories: refused before the work (no database appears).
touch "$T/afile"
expect 2 "not a directory" run "$SRC/scenarios/quickstart.yaml" --db "$T/r1.db" --plots "$T/afile" -q
[ ! -e "$T/r1.db" ] && ok "no database after a refused --plots" || bad "database created despite bad --plots"
expect 2 "not a directory" plan "$SRC/scenarios/plan_example.yaml" --db "$T/p1.db" --out "$T/afile"
[ ! -e "$T/p1.db" ] && ok "no database after a refused --out" || bad "database created despite bad --out"

# Outputs that are inputs.
cp "$SRC/tests/fuzz/corpus/synth/synth_spec.yaml" "$T/spec.yaml"
sum=$(md5sum < "$T/spec.yaml")
expect 2 "is the spec file itself" trace gen "$T/spec.yaml" -o "$T/spec.yaml"
[ "$(md5sum < "$T/spec.yaml")" = "$sum" ] && ok "spec left as it was" || bad "spec overwritten"
cp "$SRC/models/data/splitwise_perf_a100.csv" "$T/m.csv"
sum=$(md5sum < "$T/m.csv")
expect 2 "is one of the inputs" calibrate "$T/m.csv" --gpu a100 --model llama-2-70b --out "$T/m.csv"
expect 2 "is one of the inputs" calibrate --operators --gpu h100 --gemm "$T/m.csv" --out "$T/./m.csv"
[ "$(md5sum < "$T/m.csv")" = "$sum" ] && ok "measurements left as they were" || bad "measurements overwritten"
cp "$SRC/tests/data/scenarios/light.yaml" "$T/light.yaml"
sum=$(md5sum < "$T/light.yaml")
expect 2 "would overwrite an input" run "$T/light.yaml" --db "$T/light.yaml" -q
ln -s "$T/light.yaml" "$T/link.db"
expect 2 "would overwrite an input" run "$T/light.yaml" --db "$T/link.db" -q
[ "$(md5sum < "$T/light.yaml")" = "$sum" ] && ok "scenario left as it was" || bad "scenario overwritten"
exit $fail
