#!/bin/bash
# Fit the A100 step-time parameters to the Splitwise Llama-2-70B rows and print the
# held-out error (every 4th configuration is held out), then the same for BLOOM-176B
# on H100.  Builds the binary if it is missing.
#   bash bench/calibrate.sh [path/to/fleetsim]
set -eu
cd "$(dirname "$0")/.."
FS=${1:-build/fleetsim}
if [ ! -x "$FS" ]; then
	cmake -S . -B build >/dev/null
	make -C build -j"$(nproc)" fleetsim >/dev/null
	FS=build/fleetsim
fi
CSV=${FS_SHARED_DIR:-../shared}/reference/splitwise_perf_a100.csv
"$FS" calibrate "$CSV" --gpu a100 --model llama-2-70b --holdout-every 4
echo
"$FS" calibrate "$CSV" --gpu h100 --model bloom-176b --holdout-every 4
