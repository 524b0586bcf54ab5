# Sourced by the shell tests (deploy/tests/*.sh, deploy/mariadb-test.sh, tests/cluster/run,
# tests/bench/flash_sale): ports for the processes they start, and bounded waits for those
# processes to be ready, so that no test sleeps in the hope that a process got there.
#   free_test_port VAR              sets VAR to a port below the kernel's ephemeral range
#   wait_http_ready URL [CURL_ARG…] until URL answers 2xx (bounded); false if it never does
#   wait_until SECONDS COMMAND…     until COMMAND succeeds (bounded); false if it never does
#   not_running PID                 true once the process PID is gone

# Ports handed to processes we start lie below Linux's ephemeral range (32768-60999), so
# that a listener bound to port 0 meanwhile (the payment sandbox's, inside each service
# process before its own) cannot be given one of them. The C++ tests pick from the same
# range (tests/support/processes.hpp kFirstTestPort, kTestPorts).
CUNHUO_FIRST_TEST_PORT=20000 CUNHUO_TEST_PORTS=12000
cunhuo_ports_handed_out=${cunhuo_ports_handed_out:-" "}

# Sets the variable named $1 (no subshell: this shell remembers what it handed out, so two
# processes not yet listening never get the same port).
free_test_port() {
  local _cunhuo_port _cunhuo_try
  for _cunhuo_try in $(seq 1 1000); do
    _cunhuo_port=$((CUNHUO_FIRST_TEST_PORT + (RANDOM * 32768 + RANDOM) % CUNHUO_TEST_PORTS))
    [[ $cunhuo_ports_handed_out == *" $_cunhuo_port "* ]] && continue
    # A port something listens on answers the connection: try another.
    (exec 3<>"/dev/tcp/127.0.0.1/$_cunhuo_port") 2>/dev/null && continue
    cunhuo_ports_handed_out+="$_cunhuo_port "
    printf -v "$1" '%s' "$_cunhuo_port"
    return 0
  done
  echo "no free port below the ephemeral range" >&2
  return 1
}

# A process we started says nothing we can wait on before its port answers, so this is a
# bounded readiness probe: curl retries a refused connection or a 5xx once a second, at
# most CUNHUO_READY_SECONDS times (default 60), each try cut off after 5 seconds.
wait_http_ready() {
  local url=$1
  shift
  curl -fsS -o /dev/null --max-time 5 --retry "${CUNHUO_READY_SECONDS:-60}" \
    --retry-connrefused --retry-delay 1 "$@" "$url"
}

# For what gives no signal of its own to wait on (MariaDB accepting connections on its
# socket, a Galera node reaching Synced, a process we may not `wait` for having exited):
# asks again every tenth of a second until COMMAND succeeds or SECONDS have passed.
wait_until() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1  # the pause between two asks of a bounded poll, not a wait in itself
  done
}

not_running() { ! kill -0 "$1" 2>/dev/null; }
