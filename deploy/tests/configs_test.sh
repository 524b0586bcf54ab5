#!/usr/bin/env bash
# The shipped deployment configurations pass their own tools' checks:
#   nginx -t on deploy/nginx/cunhuo.conf (in a scratch prefix, so any user may run it);
#   promtool check config / check rules / test rules on deploy/prometheus;
#   systemd-analyze verify on deploy/systemd (skipped, saying so, where it is missing).
# Any message from a checker that is not its success line fails the test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deploy=$(cd "$here/.." && pwd)
cunhuo=${1:-}  # the service binary, for systemd-analyze to find an executable
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in nginx promtool openssl; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing: bash deploy/install-deps.sh --test installs it"
done

# nginx
source "$here/nginx_sandbox.sh"
nginx_sandbox "$work/nginx" 18443 18080 18081 18082
nginx -t -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" \
  >"$work/nginx-t.out" 2>&1 || { cat "$work/nginx-t.out" >&2; fail "nginx -t"; }
if grep -v -e 'syntax is ok' -e 'test is successful' "$work/nginx-t.out" | grep -q .; then
  cat "$work/nginx-t.out" >&2
  fail "nginx -t warns"
fi
echo "ok: nginx -t on deploy/nginx/cunhuo.conf"
# As the README installs it: in sites-enabled of Debian's own nginx.conf (a scratch copy).
if [[ -f /etc/nginx/nginx.conf ]]; then
  cp -r /etc/nginx "$work/etc-nginx"
  rm -f "$work/etc-nginx/sites-enabled/"*
  cp "$work/nginx/cunhuo.conf" "$work/etc-nginx/sites-enabled/cunhuo"
  sed -i "s|/etc/nginx/|$work/etc-nginx/|g" "$work/etc-nginx/nginx.conf"
  # Debian's file names root-owned paths (its pid, its logs): the check needs root there.
  if [[ $(id -u) -eq 0 ]]; then
    nginx -t -c "$work/etc-nginx/nginx.conf" >"$work/nginx-debian.out" 2>&1 ||
      { cat "$work/nginx-debian.out" >&2; fail "nginx -t inside Debian's nginx.conf"; }
    echo "ok: nginx -t with the site in Debian's own nginx.conf"
  else
    echo "skipped: the site inside Debian's own nginx.conf (needs root)"
  fi
fi

# Prometheus
promtool check config "$deploy/prometheus/prometheus.yml" >"$work/p.out" 2>&1 ||
  { cat "$work/p.out" >&2; fail "promtool check config"; }
promtool check rules "$deploy/prometheus/cunhuo-rules.yml" >"$work/p.out" 2>&1 ||
  { cat "$work/p.out" >&2; fail "promtool check rules"; }
promtool test rules "$deploy/prometheus/cunhuo-rules.test.yml" >"$work/p.out" 2>&1 ||
  { cat "$work/p.out" >&2; fail "promtool test rules"; }
echo "ok: promtool check config, check rules, test rules"

# systemd: the units as installed, the binary and scripts at the paths they name.
if ! command -v systemd-analyze >/dev/null; then
  echo "skipped: systemd-analyze is missing, the systemd units were not verified"
  exit 0
fi
mkdir -p "$work/units"
bin=${cunhuo:-/bin/true}
sed "s|/usr/local/bin/cunhuo|$bin|" "$deploy/systemd/cunhuo@.service" >"$work/units/cunhuo@.service"
sed "s|/usr/local/lib/cunhuo/backup.sh|$deploy/backup.sh|" "$deploy/systemd/cunhuo-backup.service" \
  >"$work/units/cunhuo-backup.service"
cp "$deploy/systemd/cunhuo-backup.timer" "$work/units/"
(cd "$work/units" &&
  systemd-analyze verify ./cunhuo@8081.service ./cunhuo-backup.service ./cunhuo-backup.timer) \
  >"$work/s.out" 2>&1 || { cat "$work/s.out" >&2; fail "systemd-analyze verify"; }
if grep -q . "$work/s.out"; then cat "$work/s.out" >&2; fail "systemd-analyze verify warns"; fi
echo "ok: systemd-analyze verify on deploy/systemd"
