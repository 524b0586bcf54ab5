#!/usr/bin/env bash
# Configures and builds. Usage: deploy/build.sh BUILD_DIR BUILD_TYPE [extra cmake args]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?build dir}; type=${2:?build type}; shift 2
cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
# Two cores and 24 GiB: two compile jobs keep memory and the machine comfortable.
ninja -C "$dir" -j "${CUNHUO_BUILD_JOBS:-2}"
