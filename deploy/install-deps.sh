#!/usr/bin/env bash
# Installs the Debian 12 packages Cunhuo needs. `--test` adds what the test suite and
# benchmarks need (MariaDB server, wrk, Chromium, Node.js and npm for the OpenAPI linter).
# `--cluster` adds, to those, what tests/cluster/run needs for a MariaDB Galera cluster
# (galera-4, rsync for state transfers, mariadb-backup).
# Installs only what is missing.
set -euo pipefail

# libboost-dev is Boost 1.74 on Debian 12 (Beast and Asio, header-only, with libssl-dev for
# the HTTPS client); libboost1.81-dev cannot replace it: libmysqlcppconn-dev depends on
# libboost-dev, which holds libboost1.74-dev, and the two conflict.
packages=(g++ cmake ninja-build pkg-config git
  libpistache-dev libmysqlcppconn-dev libboost-dev libssl-dev ca-certificates libsimdjson-dev
  libspdlog-dev libsqlite3-dev libsodium-dev libgd-dev catch2
  libkainjow-mustache-dev libqrencode-dev libwebp-dev libzbar-dev)
if [[ "${1:-}" == "--test" || "${1:-}" == "--cluster" ]]; then
  # Chromium renders the web pages in the browser tests (tests/browser); a Chinese font makes
  # their screenshots legible (the pages load no web font).
  packages+=(mariadb-server mariadb-client wrk procps curl chromium fonts-wqy-zenhei nodejs)
  # Debian's npm goes with Debian's nodejs; a machine whose Node.js came with its own npm keeps it.
  command -v npm >/dev/null || packages+=(npm)
fi
# Deployment (deploy/test.sh checks the shipped configs): nginx for `nginx -t` and the proxy
# test, prometheus for promtool, mariadb-backup for the MariaDB backup and restore test.
if [[ "${1:-}" == "--test" || "${1:-}" == "--cluster" ]]; then
  packages+=(nginx-light prometheus mariadb-backup openssl)
fi
if [[ "${1:-}" == "--cluster" ]]; then
  packages+=(galera-4 rsync mariadb-backup)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# The MariaDB, nginx and Prometheus packages must not start system-wide services: the
# tests run their own.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
