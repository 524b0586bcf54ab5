#!/usr/bin/env bash
# A throw-away MariaDB on loopback for the test suite.
#   deploy/mariadb-test.sh start DIR   prints "user:password@127.0.0.1:PORT" on success
#   deploy/mariadb-test.sh resume DIR  starts a server on DIR/data as it is (a restored copy)
#   deploy/mariadb-test.sh stop DIR
set -euo pipefail
cmd=${1:?start or stop}; dir=${2:?data directory}
user=$(id -un)
root=$(cd "$(dirname "$0")/.." && pwd)

case "$cmd" in
start|resume)
  mkdir -p "$dir"
  # Pick a free port in a high range.
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || break
  done
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
  for _ in $(seq 1 120); do
    mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --no-defaults --socket="$dir/mysql.sock" -uroot ping >/dev/null 2>&1 \
    || { echo "MariaDB did not start:" >&2; tail -20 "$dir/error.log" >&2; exit 1; }
  [[ "$cmd" == resume ]] || mariadb --no-defaults --socket="$dir/mysql.sock" -uroot -e \
    "CREATE USER 'cunhuo'@'127.0.0.1' IDENTIFIED BY 'cunhuo-test'; GRANT ALL ON *.* TO 'cunhuo'@'127.0.0.1';"
  echo "cunhuo:cunhuo-test@127.0.0.1:$port"
  ;;
stop)
  if [[ -f "$dir/mariadb.pid" ]]; then
    pid=$(cat "$dir/mariadb.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*) echo "usage: $0 start|resume|stop DIR" >&2; exit 2 ;;
esac
