#!/usr/bin/env bash
# Installs what is missing, builds in Release, and serves on http://127.0.0.1:8080 with
# the embedded SQLite store under var/ and the Minqin sample county loaded.
# Any flag is passed on, e.g. deploy/run.sh --listen 0.0.0.0:8080 --db mysql://u:p@host:3306/cunhuo
# (beyond loopback the payment and SMS sandboxes refuse to start: add --payment-simulator off
# and --sms off (or --sms gateway), or --demo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
bash deploy/build.sh build/release Release -DCUNHUO_TESTS=OFF
mkdir -p var
exec build/release/storefront/cunhuo serve --db "${CUNHUO_DB:-sqlite:var/cunhuo.db}" --seed "${CUNHUO_SEED:-minqin}" "$@"
