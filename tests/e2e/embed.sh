#!/usr/bin/env bash
# e2e: libfleetsim installs and embeds.  `cmake --install` the build into a temp prefix,
# compile examples/embed.c with `pkg-config --cflags --libs fleetsim` only, run it on the
# quickstart scenario, and check it reports what `fleetsim run` reports (completed
# requests and GPU-hours per policy, and the same comparison line).
# Skipped (77) without a C compiler or pkg-config, and for sanitizer builds.
set -u
bin=${1:?usage: embed.sh FLEETSIM}
SRC=${FS_SOURCE_DIR:-$(pwd)}
BUILD=${FS_BUILD_DIR:-$(dirname "$bin")}
command -v cc > /dev/null && command -v pkg-config > /dev/null ||
	{ echo "SKIP: needs cc and pkg-config"; exit 77; }
# A sanitizer build's library needs the sanitizer runtime on the embedder's link line,
# which pkg-config does not carry: the plain build tests the embedding.
if nm "$bin" 2>/dev/null | grep -q __asan_init; then echo "SKIP: sanitizer build"; exit 77; fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
cmake --install "$BUILD" --prefix "$T/prefix" > "$T/install.log" 2>&1 ||
	{ echo "FAIL: cmake --install: $(tail -5 "$T/install.log")"; exit 1; }
for f in bin/fleetsim include/fleetsim/fleetsim.h; do
	[ -e "$T/prefix/$f" ] || { echo "FAIL: $f not installed"; fail=1; }
done
pc=$(find "$T/prefix" -name fleetsim.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: fleetsim.pc not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
# shellcheck disable=SC2046
if ! cc -std=c11 -Wall -Wextra -Werror "$SRC/examples/embed.c" $(pkg-config --cflags --libs fleetsim) \
	-o "$T/embed" 2> "$T/cc.log"; then
	echo "FAIL: examples/embed.c does not build with pkg-config: $(cat "$T/cc.log")"; exit 1
fi
echo "ok: examples/embed.c builds with pkg-config --cflags --libs fleetsim"
cd "$SRC"
# A shared libfleetsim (-DBUILD_SHARED_LIBS=ON) is found where it was installed.
export LD_LIBRARY_PATH=$(dirname "$pc")/..${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
"$T/embed" scenarios/quickstart.yaml > "$T/embed.out" 2> "$T/embed.err" ||
	{ echo "FAIL: embed exited $?: $(cat "$T/embed.err")"; exit 1; }
"$bin" run scenarios/quickstart.yaml --db "$T/r.db" --json > "$T/run.json" ||
	{ echo "FAIL: fleetsim run"; exit 1; }
python3 - "$T/embed.out" "$T/run.json" <<'PY' || fail=1
import json, re, sys
out = open(sys.argv[1]).read()
run = json.load(open(sys.argv[2]))
bad = 0
for p in run["policies"]:
    f = p["fleet"]
    m = re.search(r"^%s\s+(\d+) GPUs\s+(\d+) of (\d+) requests completed.*?([0-9.]+) GPU-hours$" % re.escape(p["policy"]), out, re.M)
    ok = bool(m) and int(m.group(1)) == f["gpus"] and int(m.group(2)) == f["completed"] and \
        int(m.group(3)) == f["requests"] and abs(float(m.group(4)) - f["gpu_hours"]) < 1e-3
    print(("ok   " if ok else "FAIL ") + "policy %s: embed and fleetsim run agree" % p["policy"])
    bad += not ok
    if "vs_baseline" in p:
        ok = ("%s vs %s: alpha %.3f" % (p["policy"], p["vs_baseline"]["baseline"], p["vs_baseline"]["alpha"])) in out
        print(("ok   " if ok else "FAIL ") + "comparison line for %s" % p["policy"])
        bad += not ok
sys.exit(1 if bad else 0)
PY
"$T/embed" /no/such.yaml > /dev/null 2> "$T/err"; rc=$?
if [ "$rc" -eq 2 ] && grep -q "no/such.yaml" "$T/err"; then
	echo "ok: a missing scenario is exit 2 naming the file"
else
	echo "FAIL: missing scenario: exit $rc, $(cat "$T/err")"; fail=1
fi
exit $fail
