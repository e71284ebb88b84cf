#!/usr/bin/env bash
# `fleetsim plan` usage errors exit 2 with a message naming the problem; --help exits 0.
set -uo pipefail
FLEETSIM=${1:?usage: plan_errors.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
S="$SRC/scenarios/plan_example.yaml"
expect() { # status pattern args...
	local want=$1 pat=$2; shift 2
	"$FLEETSIM" plan "$@" >"$T/out" 2>"$T/err"; local rc=$?
	[ "$rc" = "$want" ] || fail "plan $*: exit $rc, want $want ($(cat "$T/err"))"
	grep -q -- "$pat" "$T/err" "$T/out" || fail "plan $*: no '$pat' in: $(cat "$T/err")"
	echo "  plan $* -> $rc ($pat)"
}
"$FLEETSIM" plan --help | grep -q -- '--load-scale' || fail "--help"
expect 2 "expected one" 
expect 2 "tpu9" "$S" --gpus tpu9 --db "$T/a.db" --out "$T/o"
expect 2 "int4" "$S" --precisions int4 --db "$T/a.db" --out "$T/o"
expect 2 "triple" "$S" --policies triple --db "$T/a.db" --out "$T/o"
expect 2 "load-scale" "$S" --load-scale 2,1 --db "$T/a.db" --out "$T/o"
expect 2 "baseline" "$S" --gpus h100 --baseline b200/bf16/single --db "$T/a.db" --out "$T/o"
expect 2 "nope.yaml" "$T/nope.yaml" --db "$T/a.db" --out "$T/o"
# A scenario that is missing or not YAML fails before any file is made: no empty
# results database, no report directory.
printf 'seed: 1\nworkload: [\n' > "$T/broken.yaml"
expect 2 "broken.yaml:3:1: YAML syntax error" "$T/broken.yaml" --db "$T/b.db" --out "$T/ob"
[ ! -e "$T/b.db" ] && [ ! -e "$T/ob" ] || fail "a malformed scenario left $T/b.db or $T/ob behind"
grep -q "memory-@" "$T/err" && fail "libfyaml's raw diagnostic reached stderr: $(cat "$T/err")"
expect 2 "nope.yaml" "$T/nope.yaml" --db "$T/c.db" --out "$T/oc"
[ ! -e "$T/c.db" ] && [ ! -e "$T/oc" ] || fail "a missing scenario left $T/c.db or $T/oc behind"
expect 2 "no_such_key" "$S" --set workload.no_such_key=1 --db "$T/a.db" --out "$T/o"
expect 2 "at least two GPUs" "$S" --gpus h100 --mixed-gpus --db "$T/a.db" --out "$T/o"
expect 2 "dual in --policies" "$S" --gpus h100,b200 --policies single --mixed-gpus --db "$T/a.db" --out "$T/o"
expect 2 "needs the tuned search" "$S" --gpus h100,b200 --mixed-gpus --no-tune --db "$T/a.db" --out "$T/o"
echo OK
