#!/usr/bin/env bash
# The README's layout, run small: nginx (the shipped site, in a scratch prefix on high ports)
# in front of two service processes on one MariaDB (a throw-away server). Through nginx:
# a request over HTTP/2 and TLS, requests spread over both processes, a hashed asset kept a
# year and compressed, the live feed's WebSocket upgrade, and the code route's rate limit.
#   deploy/tests/proxy_test.sh PATH/TO/cunhuo
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deploy=$(cd "$here/.." && pwd)
cunhuo=${1:?usage: proxy_test.sh PATH/TO/cunhuo}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  bash "$deploy/mariadb-test.sh" stop "$work/mariadb" >/dev/null 2>&1 || true
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  tail -5 "$work"/serve-*.log "$work/nginx/logs/error.log" >&2 2>/dev/null || true
  exit 1
}
source "$here/support.sh"

address=$(CUNHUO_TEST_MARIADB_POOL=64M bash "$deploy/mariadb-test.sh" start "$work/mariadb")
db="mysql://$address/cunhuo_proxy"
mkdir -p "$work/data"
# Schema, seed and keys once, before the processes that share them (as the README does).
# The county's seed as the README makes it from the shipped example.
admin_password=$(openssl rand -hex 12)
sed -e 's/COUNTY_CODE/620621/g' -e 's/COUNTY_NAME/民勤县/g' -e 's/ADMIN_PHONE/13800000000/' \
  -e "s|ADMIN_PASSWORD|$admin_password|" "$deploy/county-seed.example.json" >"$work/seed.json"
"$cunhuo" migrate --db "$db" --seed "$work/seed.json" --data-dir "$work/data" \
  >"$work/migrate.log" 2>&1 || fail "cunhuo migrate"
free_test_port p1 || fail "no free port"
free_test_port p2 || fail "no free port"
for port in "$p1" "$p2"; do
  "$cunhuo" serve --db "$db" --seed none --data-dir "$work/data" --listen "127.0.0.1:$port" \
    --threads 2 --trusted-proxy 127.0.0.1/32 --log-format json --log-level debug >"$work/serve-$port.log" 2>&1 &
  pids+=($!)
done
for port in "$p1" "$p2"; do
  wait_http_ready "http://127.0.0.1:$port/readyz" 2>/dev/null || fail "process on $port not ready"
done

source "$here/nginx_sandbox.sh"
free_test_port https || fail "no free port"
free_test_port http || fail "no free port"
nginx_sandbox "$work/nginx" "$https" "$http" "$p1" "$p2"
# In the foreground, a child of this script: cleanup stops it by its pid, no pid file to
# wait for; it is ready when its TLS port answers.
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" \
  -g 'daemon off;' &
pids+=($!)
site="https://127.0.0.1:$https"
wait_http_ready "$site/readyz" -k 2>/dev/null || fail "nginx did not start"

# TLS and HTTP/2; plain HTTP is sent to HTTPS.
[[ $(curl -sk --http2 -o /dev/null -w '%{http_version} %{http_code}' "$site/readyz") == "2 200" ]] ||
  fail "GET /readyz over HTTP/2 and TLS"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/login") == 301 ]] ||
  fail "plain HTTP is not redirected"
echo "ok: TLS, HTTP/2, redirect from HTTP"

# Requests spread over both processes (each counts its own on /metrics, read directly).
for _ in $(seq 1 6); do curl -sk -o /dev/null "$site/healthz"; done
for port in "$p1" "$p2"; do
  metrics=$(curl -s "http://127.0.0.1:$port/metrics")
  grep -q '^cunhuo_http_requests_total{route="/healthz",method="GET",status="200"}' <<<"$metrics" ||
    fail "the process on $port took no request through nginx"
done
[[ $(curl -sk -o /dev/null -w '%{http_code}' "$site/metrics") == 404 ]] ||
  fail "/metrics is served through nginx"
echo "ok: both processes answer through nginx; /metrics stays on loopback"

# A hashed stylesheet: a year, immutable, compressed.
page=$(curl -sk "$site/login")
css=$(grep -o '/assets/[a-z0-9_-]*\.[0-9a-f]\{16\}\.css' <<<"$page" | head -1 || true)
[[ -n "$css" ]] || fail "no hashed stylesheet on /login"
headers=$(curl -sk -D - -o /dev/null -H 'Accept-Encoding: gzip' "$site$css" | tr -d '\r')
grep -qi '^cache-control: public, max-age=31536000, immutable$' <<<"$headers" ||
  fail "$css is not kept a year: $headers"
[[ $(grep -ci '^cache-control:' <<<"$headers") == 1 ]] || fail "$css has two Cache-Control headers"
grep -qi '^content-encoding: gzip' <<<"$headers" || fail "$css is not compressed"
grep -qi '^strict-transport-security: max-age=31536000' <<<"$headers" || fail "$css lacks HSTS"
# Pages carry form tokens: never compressed (BREACH).
headers=$(curl -sk -D - -o /dev/null -H 'Accept-Encoding: gzip' "$site/login" | tr -d '\r')
! grep -qi '^content-encoding:' <<<"$headers" || fail "/login is compressed"
echo "ok: $css kept a year, immutable, gzip, HSTS; pages not compressed"

# The live feed upgrades through nginx (HTTP/1.1: a WebSocket does not ride HTTP/2 here).
token=$(curl -sk -H 'Content-Type: application/json' \
  -d '{"phone":"13800000000","password":"'"$admin_password"'"}' "$site/api/v1/sessions" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
[[ -n "$token" ]] || fail "login through nginx"
status=$(curl -sk --http1.1 -N --max-time 3 -o /dev/null -w '%{http_code}' \
  -H "Authorization: Bearer $token" -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
  -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
  "$site/live" || true)
[[ "$status" == 101 ]] || fail "/live answered $status, not 101 Switching Protocols"
echo "ok: /live upgrades to a WebSocket through nginx"

# Saying nothing of text messages, a store of its own sends none: no sandbox shows codes,
# through nginx or on the process's own port, and the start says so.
[[ $(curl -sk -o /dev/null -w '%{http_code}' "$site/sim/sms?phone=13800000000") == 404 ]] ||
  fail "the SMS sandbox answers through nginx"
direct="http://127.0.0.1:$p1"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$direct/sim/sms?phone=13800000000") == 404 ]] ||
  fail "the SMS sandbox answers on loopback behind nginx"
grep -q 'sms: off' "$work/serve-$p1.log" || fail "the start does not log that no text is sent"
echo "ok: no SMS sandbox behind nginx"

# One-time codes: nginx refuses a burst from one address before the service sends texts.
# The requests lack their purpose: the service answers each 400 and limits none of them
# itself (one a minute per phone), so a 429 here is nginx's.
codes=""
for _ in $(seq 1 6); do
  codes+=$(curl -sk -o /dev/null -w '%{http_code} ' -H 'Content-Type: application/json' \
    -d '{"phone":"13700000001"}' "$site/api/v1/phone-codes")
done
[[ "$codes" == *429* ]] || fail "six code requests in a row were all let through: $codes"
echo "ok: code requests are rate limited ($codes)"

# One request id, nginx's own, from nginx's access log to the service's JSON log lines; the
# one a client sends is not taken (it could reuse another request's or write into the log).
echoed=$(curl -sk -D - -o /dev/null -H 'X-Request-Id: proxy-test-42' "$site/healthz" | tr -d '\r')
id=$(sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p' <<<"$echoed")
[[ "$id" =~ ^[0-9a-f]{32}$ ]] || fail "the answer's request id is not nginx's own: '$id'"
grep -q "\"request_id\":\"$id\"" "$work/serve-$p1.log" "$work/serve-$p2.log" ||
  fail "no JSON log line with the request id"
grep -q "request_id=$id\$" "$work/nginx/logs/cunhuo.access.log" ||
  fail "nginx's access log lacks the request id"
! grep -q 'proxy-test-42' "$work/serve-$p1.log" "$work/serve-$p2.log" \
  "$work/nginx/logs/cunhuo.access.log" || fail "the client's own request id was taken"
echo "ok: one request id in nginx's access log and the service's JSON log"
