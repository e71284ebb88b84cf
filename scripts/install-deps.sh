#!/usr/bin/env bash
# Install the Debian 12 packages fleetsim builds, tests and plots with.
#   scripts/install-deps.sh        what building, running and the test suite need
#   scripts/install-deps.sh --ci   also CI's extra tools (sanitizer runtime, fuzzing
#                                  compiler, valgrind, locales, headless browser)
# Skips apt entirely when everything is already there.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libgsl-dev libsqlite3-dev sqlite3 libfyaml-dev
      libcunit1-dev libcjson-dev libzstd-dev zstd zlib1g-dev gnuplot-nox
      libopenmpi-dev openmpi-bin python3 time)
if [ "${1:-}" = "--ci" ]; then
  pkgs+=(clang libclang-rt-14-dev valgrind locales chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
