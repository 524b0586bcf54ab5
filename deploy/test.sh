#!/usr/bin/env bash
# Installs what is missing (MariaDB server included), builds with AddressSanitizer and
# UndefinedBehaviorSanitizer, starts a throw-away MariaDB on loopback, runs the whole
# suite with ctest against both stores, stops MariaDB, and exits non-zero on any failure.
# The suite includes the deployment's: backups of both stores taken mid-sale and restored
# (tests/deploy), the shipped nginx, Prometheus and systemd configs checked by nginx -t,
# promtool and systemd-analyze, and nginx in front of two processes (deploy/tests/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh --test
# The OpenAPI linter and puppeteer-core (drives /usr/bin/chromium), as pinned in the lockfile.
if [[ ! -x tests/tools/node_modules/.bin/redocly || ! -d tests/tools/node_modules/puppeteer-core ||
      tests/tools/package-lock.json -nt tests/tools/node_modules/.package-lock.json ]]; then
  npm ci --prefix tests/tools --no-audit --no-fund --loglevel=error
fi
# Assertions stay on in the tested build: invariants are checked on every run. -g1 keeps the
# line tables sanitizer reports are symbolized from (inlined frames included) but not the
# variable locations, which cost about a quarter of each file's compile time; the generated
# code is the same as with -g.
bash deploy/build.sh build/test RelWithDebInfo -DCUNHUO_SANITIZE="${CUNHUO_SANITIZE:-ON}" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1"

dbdir=$(mktemp -d /tmp/cunhuo-mariadb.XXXXXX)
trap 'bash "$root/deploy/mariadb-test.sh" stop "$dbdir"' EXIT
CUNHUO_TEST_MYSQL=$(bash deploy/mariadb-test.sh start "$dbdir")
export CUNHUO_TEST_MYSQL
# The server goes with the run: tests need not drop their schemas (tests/support).
export CUNHUO_TEST_MYSQL_THROWAWAY=1
echo "test MariaDB on ${CUNHUO_TEST_MYSQL#*@}"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build/test --output-on-failure -j "${CUNHUO_TEST_JOBS:-2}" --timeout 600
