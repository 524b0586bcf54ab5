#!/usr/bin/env bash
# A consistent copy of a MariaDB store while the service writes to it (mariadb-backup: the
# InnoDB files and the redo written during the copy, then prepared, so the copy is the
# store as it stood at one moment). Run it on the database host, as root (or as the user
# that may read MariaDB's data directory):
#   deploy/backup.sh DIR [mariadb-backup options]
# writes DIR/cunhuo-YYYYmmddTHHMMSSZ/ (ready for deploy/restore.sh), prints its path, and
# keeps the newest $CUNHUO_BACKUP_KEEP (default 14) copies in DIR. Options go to
# mariadb-backup first (e.g. --no-defaults --socket=/run/mysqld/mysqld.sock --user=root);
# without them it reads the server's my.cnf ([mariadb-backup] group).
# An SQLite store is copied by the service binary instead: cunhuo backup --to FILE.
set -euo pipefail
dir=${1:?usage: backup.sh DIR [mariadb-backup options]}
shift
keep=${CUNHUO_BACKUP_KEEP:-14}
mkdir -p "$dir"
target="$dir/cunhuo-$(date -u +%Y%m%dT%H%M%SZ)"
partial="$target.partial"
# What an interrupted run left (the timer never runs two at once).
find "$dir" -maxdepth 1 -type d -name 'cunhuo-*Z.partial' -exec rm -rf {} +
log="$dir/backup.log"
# A copy that did not finish is never taken for one: it keeps the .partial name.
if ! mariadb-backup "$@" --backup --target-dir="$partial" >"$log" 2>&1 ||
   ! mariadb-backup "$@" --prepare --target-dir="$partial" >>"$log" 2>&1; then
  tail -20 "$log" >&2
  echo "backup failed; the log is $log" >&2
  exit 1
fi
mv "$partial" "$target"
sync -f "$target" 2>/dev/null || sync
# Oldest first; the newest $keep stay.
mapfile -t old < <(find "$dir" -maxdepth 1 -type d -name 'cunhuo-*Z' | sort | head -n -"$keep")
for d in "${old[@]}"; do rm -rf "$d"; done
echo "$target"
