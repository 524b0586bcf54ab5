#!/usr/bin/env bash
# A throw-away MariaDB on loopback for the test suite.
#   deploy/mariadb-test.sh start DIR   prints "user:password@127.0.0.1:PORT" on success
#   deploy/mariadb-test.sh resume DIR  starts a server on DIR/data as it is (a restored copy)
#   deploy/mariadb-test.sh stop DIR
set -euo pipefail
cmd=${1:?start or stop}; dir=${2:?data directory}
user=$(id -un)
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/deploy/tests/support.sh"
answers_on() { mariadb-admin --no-defaults --socket="$1" -uroot ping >/dev/null 2>&1; }

case "$cmd" in
start|resume)
  mkdir -p "$dir"
  free_test_port port
  if [[ "$cmd" == start ]]; then
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
      --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve --force >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log" >&2; exit 1; }
  fi
  # The production settings (deploy/mariadb/cunhuo.cnf: durable, utf8mb4), with a buffer
  # pool that holds the benchmarks' stores (tests/bench/lists: 1,000,000 orders, 760 MiB
  # with their indexes). Memory is taken as pages are used: the tests' small stores
  # take little of it. CUNHUO_TEST_MARIADB_POOL overrides it (e.g. 128M to watch cold reads).
  mariadbd --defaults-file="$root/deploy/mariadb/cunhuo.cnf" --datadir="$dir/data" \
    --socket="$dir/mysql.sock" --port="$port" --bind-address=127.0.0.1 \
    --pid-file="$dir/mariadb.pid" --user="$user" --skip-name-resolve \
    --innodb-buffer-pool-size="${CUNHUO_TEST_MARIADB_POOL:-2G}" \
    --log-error="$dir/error.log" >/dev/null 2>&1 &
  wait_until 60 answers_on "$dir/mysql.sock" \
    || { echo "MariaDB did not start:" >&2; tail -20 "$dir/error.log" >&2; exit 1; }
  [[ "$cmd" == resume ]] || mariadb --no-defaults --socket="$dir/mysql.sock" -uroot -e \
    "CREATE USER 'cunhuo'@'127.0.0.1' IDENTIFIED BY 'cunhuo-test'; GRANT ALL ON *.* TO 'cunhuo'@'127.0.0.1';"
  echo "cunhuo:cunhuo-test@127.0.0.1:$port"
  ;;
stop)
  if [[ -f "$dir/mariadb.pid" ]]; then
    pid=$(cat "$dir/mariadb.pid")
    kill "$pid" 2>/dev/null || true
    wait_until 30 not_running "$pid" || true
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|resume|stop DIR" >&2; exit 2 ;;
esac
