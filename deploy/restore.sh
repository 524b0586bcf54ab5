#!/usr/bin/env bash
# Puts a copy made by deploy/backup.sh back as MariaDB's data directory:
#   deploy/restore.sh BACKUP DATADIR [mariadb-backup options]
# MariaDB must be stopped and DATADIR absent or empty (move the old one aside first). As
# root the files are given to the mysql user. Then start MariaDB and, before any service
# process, check the store: `cunhuo check --config /etc/cunhuo/cunhuo.conf` exits 0 only
# when the schema is current and the ledger balances (the README's "Restoring a backup").
# A copy holding data-dir.tar (CUNHUO_DATA_DIR was set) has the service's files too: put
# them back with `tar -C /var/lib/cunhuo -xpf BACKUP/data-dir.tar` while the service is
# stopped. Every service process starts afresh after a restore: the sessions a running one
# cached may have been revoked after the copy was taken.
set -euo pipefail
backup=${1:?usage: restore.sh BACKUP DATADIR [mariadb-backup options]}
datadir=${2:?usage: restore.sh BACKUP DATADIR [mariadb-backup options]}
shift 2
[[ -f "$backup/xtrabackup_checkpoints" ]] ||
  { echo "$backup is not a prepared copy from deploy/backup.sh" >&2; exit 1; }
grep -q '^backup_type = log-applied' "$backup/xtrabackup_checkpoints" ||
  { echo "$backup was not prepared (backup.sh prepares every copy it keeps)" >&2; exit 1; }
if [[ -d "$datadir" && -n "$(ls -A "$datadir")" ]]; then
  echo "$datadir is not empty: stop MariaDB and move it aside first" >&2
  exit 1
fi
mkdir -p "$datadir"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! mariadb-backup "$@" --copy-back --target-dir="$backup" --datadir="$datadir" >"$log" 2>&1; then
  tail -20 "$log" >&2
  exit 1
fi
if [[ $(id -u) -eq 0 ]] && id mysql >/dev/null 2>&1; then chown -R mysql:mysql "$datadir"; fi
echo "restored into $datadir: start MariaDB, run cunhuo check, then (re)start every service process"
