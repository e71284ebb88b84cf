#!/bin/bash
# End-to-end checks of `fleetsim engines` and the "engines" array of `fleetsim models --json`.
# Usage: bash tests/e2e/engines_cli.sh /path/to/fleetsim   (cwd = repo root)
set -u
FS=${1:?usage: engines_cli.sh FLEETSIM}
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

expect_err 2 "engines: unknown option '--jsn'" engines --jsn
expect_err 2 "engines: unexpected argument '0.16'" engines 0.16
"$FS" engines --help >"$TMP/help" && grep -q "usage: fleetsim engines" "$TMP/help" &&
	echo "ok: engines --help" || { echo "FAIL: engines --help"; fail=1; }
"$FS" --help | grep -q "^  engines " && echo "ok: engines in the command list" ||
	{ echo "FAIL: engines missing from fleetsim --help"; fail=1; }

# Text: one row per release with the per-class defaults, the classes of the catalog GPUs.
"$FS" engines >"$TMP/text" || { echo "FAIL: engines exit $?"; fail=1; }
grep -Eq '^  0\.16 +v0\.16\.0 +2026-02-12 +no +yes +yes +0\.90 +512 +256 / 2048 +1024 / 8192$' "$TMP/text" &&
	echo "ok: engines lists 0.16" || { echo "FAIL: engines 0.16 row: $(cat "$TMP/text")"; fail=1; }
grep -Eq '^  0\.21 +v0\.21\.0 .* yes +yes +yes +0\.92 ' "$TMP/text" &&
	echo "ok: engines lists 0.21" || { echo "FAIL: engines 0.21 row"; fail=1; }
grep -q "a100 small, h100 large, h200 large, b200 large, mi300x large" "$TMP/text" &&
	echo "ok: engines GPU classes" || { echo "FAIL: engines GPU classes"; fail=1; }
grep -q "default: 0.21" "$TMP/text" && echo "ok: default 0.21" || { echo "FAIL: default"; fail=1; }

# JSON: the same table, parseable, consistent with models --json.
"$FS" engines --json >"$TMP/eng.json" && "$FS" models --json >"$TMP/models.json" || { echo "FAIL: --json"; fail=1; }
if python3 - "$TMP/eng.json" "$TMP/models.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
m = json.load(open(sys.argv[2]))
rs = e["releases"]
assert [r["version"] for r in rs] == ["0.16", "0.19", "0.21"], rs
assert e["default"] == "0.21" and [r["default"] for r in rs] == [False, False, True]
assert e["gpu_classes"] == {"a100": "small", "h100": "large", "h200": "large",
                            "b200": "large", "mi300x": "large"}, e["gpu_classes"]
for r in rs:
    assert r["defaults"]["large"] == {"max_num_seqs": 1024, "max_num_batched_tokens": 8192}
    assert r["defaults"]["small"] == {"max_num_seqs": 256, "max_num_batched_tokens": 2048}
    assert r["cudagraph_max"] == 512 and r["null_block"] and r["async_scheduling"]
    assert "arg_utils.py" in r["source"] and r["tag"] == "v" + r["version"] + ".0"
    for k in ("nontorch_gib_tp1", "nontorch_gib_tpn", "activation_gib", "cudagraph_gib",
              "mla_pad", "hybrid_shared_pool"):
        assert k in r["memory"], k
assert [r["reserve_full_isl"] for r in rs] == [False, True, True]
assert [r["gpu_memory_utilization"] for r in rs] == [0.9, 0.9, 0.92]
assert m["engines"] == rs, "models --json engines differ from engines --json"
assert list(m)[:3] == ["gpus", "models", "engines"], list(m)
PY
then echo "ok: engines --json and models --json agree"; else echo "FAIL: engines --json"; fail=1; fi
exit $fail
