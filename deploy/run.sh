#!/usr/bin/env bash
# Installs what is missing, builds in Release, and serves on http://127.0.0.1:8080 with
# the embedded SQLite store under var/ and the Minqin sample county loaded. Payments go
# through the WeChat Pay API v3 adapter to the payment sandbox, a provider of its own
# (cunhuo-paysandbox, HTTPS on 127.0.0.1:8443), started first: it writes the merchant's
# configuration var/wechatpay.conf (mode 0600) that the service reads.
# Any flag is passed on, e.g. deploy/run.sh --listen 0.0.0.0:8080 --db mysql://u:p@host:3306/cunhuo
# (the demo county turns on the SMS sandbox, codes at /sim/sms; beyond loopback, behind a
# --trusted-proxy or with --secure-cookies the sandboxes refuse to start unless --demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
bash deploy/build.sh build/release Release -DCUNHUO_TESTS=OFF
mkdir -p var
platform=${CUNHUO_PLATFORM_URL:-http://127.0.0.1:8080}
seed=${CUNHUO_SEED:-minqin}
# Only the demo county's loader pays at moments of its history (back-dated notifications).
back_dated=off
[ "$seed" = minqin ] && back_dated=on
rm -f var/wechatpay.conf
build/release/paysandbox/cunhuo-paysandbox --data-dir var/paysandbox --port 8443 \
  --config var/wechatpay.conf --notify-url "$platform/api/v1/payments/notify" \
  --return-url "$platform/orders" --back-dated-payments "$back_dated" &
sandbox=$!
trap 'kill "$sandbox" 2>/dev/null; wait "$sandbox" 2>/dev/null' EXIT
for _ in $(seq 1 100); do [ -s var/wechatpay.conf ] && break; sleep 0.1; done
[ -s var/wechatpay.conf ] || { echo "the payment sandbox did not start" >&2; exit 1; }
build/release/storefront/cunhuo serve --db "${CUNHUO_DB:-sqlite:var/cunhuo.db}" \
  --seed "$seed" --wechatpay-config var/wechatpay.conf "$@"
