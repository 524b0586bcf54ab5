#!/usr/bin/env bash
# A consistent copy of a MariaDB store while the service writes to it (mariadb-backup: the
# InnoDB files and the redo written during the copy, then prepared, so the copy is the
# store as it stood at one moment). Run it on the database host, as root (or as the user
# that may read MariaDB's data directory):
#   deploy/backup.sh DIR [mariadb-backup options]
# writes DIR/cunhuo-YYYYmmddTHHMMSSZ/ (ready for deploy/restore.sh), prints its path, and
# keeps the newest $CUNHUO_BACKUP_KEEP (default 14) copies in DIR. Options go to
# mariadb-backup first (e.g. --no-defaults --socket=/run/mysqld/mysqld.sock --user=root);
# without them it reads the server's my.cnf ([mariadb-backup] group). On a Galera node add
# --galera-info (the README's Galera section says which node and how to restore).
# With CUNHUO_DATA_DIR set (the unit sets /var/lib/cunhuo), the service's data directory
# (photos the rows point at, the statement signing key, the merchant's key) goes into the
# same copy as data-dir.tar: the rows and their files are restored together.
# An SQLite store is copied by the service binary instead: cunhuo backup --to FILE.
set -euo pipefail
dir=${1:?usage: backup.sh DIR [mariadb-backup options]}
shift
keep=${CUNHUO_BACKUP_KEEP:-14}
# 0 would delete every copy, the new one too.
[[ "$keep" =~ ^[1-9][0-9]*$ ]] || { echo "CUNHUO_BACKUP_KEEP must be 1 or more" >&2; exit 1; }
data_dir=${CUNHUO_DATA_DIR:-}
[[ -z "$data_dir" || -d "$data_dir" ]] || { echo "$data_dir is not a directory" >&2; exit 1; }
umask 077
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
# After the store's copy: every file a copied row names (a photo is written before its row
# commits) is complete on disk by now. tar's exit 1 is a file that changed while it was read
# (one written after the store's copy, which no copied row names): not a failure.
if [[ -n "$data_dir" ]]; then
  tarred=0
  tar -C "$data_dir" -cf "$partial/data-dir.tar" . 2>>"$log" || tarred=$?
  if (( tarred > 1 )); then
    echo "copying $data_dir failed; the log is $log" >&2
    exit 1
  fi
fi
mv "$partial" "$target"
sync -f "$target" 2>/dev/null || sync
# Oldest first; the newest $keep stay.
mapfile -t old < <(find "$dir" -maxdepth 1 -type d -name 'cunhuo-*Z' | sort | head -n -"$keep")
for d in "${old[@]}"; do rm -rf "$d"; done
echo "$target"
