#!/bin/bash
# Write docs/fidelity.md: how far the step model is from measurements, per source, per
# GPU, per metric, before and after issue 13's operator model.  Generated, never edited.
#   bash bench/fidelity.sh [path/to/fleetsim]
# "Before" is the step model of commit $BEFORE_REV (built into a temporary directory from
# this repository's history; skipped with a note when git or that commit is missing).
# Needs python3 (standard library).
set -eu
cd "$(dirname "$0")/.."
FS=$(realpath "${1:-build/fleetsim}")
BEFORE_REV=${BEFORE_REV:-4c3e614}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
OLD=""
if git rev-parse --verify -q "$BEFORE_REV^{commit}" >/dev/null 2>&1; then
	mkdir "$TMP/old"
	git archive "$BEFORE_REV" | tar -x -C "$TMP/old"
	if cmake -S "$TMP/old" -B "$TMP/old/build" -DFLEETSIM_WERROR=OFF -DFLEETSIM_MPI=OFF >/dev/null 2>&1 &&
	   cmake --build "$TMP/old/build" -j"$(nproc)" --target fleetsim >/dev/null 2>&1; then
		OLD=$TMP/old/build/fleetsim
	fi
fi
python3 bench/fidelity_doc.py "$FS" "$OLD" "$BEFORE_REV" >"$TMP/fidelity.md"
mv "$TMP/fidelity.md" docs/fidelity.md
echo "wrote docs/fidelity.md"
