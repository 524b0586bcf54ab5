#!/usr/bin/env bash
# Fails, listing them, when a C++ line of the project is wider than 100 characters.
set -euo pipefail
cd "${1:-$(dirname "$0")/../..}"
wide=$(git ls-files -z '*.cpp' '*.hpp' | LC_ALL=C.UTF-8 xargs -0 grep -n '.\{101,\}' || true)
[[ -z $wide ]] && exit 0
echo "lines over 100 characters:"; echo "$wide" | cut -c1-140; exit 1
