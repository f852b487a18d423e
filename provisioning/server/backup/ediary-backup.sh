#!/bin/bash
# The nightly backup of ediary's database, installed as /usr/local/sbin/ediary-backup and run by
# ediary-backup.timer as the postgres user.
#
# A dump is not a backup until it has been restored: every run restores the new dump into a
# scratch database and compares every table's row count with the original, counted in the very
# snapshot that was dumped (pg_export_snapshot + pg_dump --snapshot), so concurrent writes cannot
# make the counts differ. Only a dump that passes is kept under its final name; then dumps older
# than the retention are deleted. Exit status: 0 a verified backup, 1 anything else.
#
# Settings (environment, e.g. /etc/ediary/backup.env): EDIARY_BACKUP_DATABASE (ediary),
# EDIARY_BACKUP_DIR (/var/backups/ediary), EDIARY_BACKUP_KEEP_DAYS (14), and libpq's PGHOST,
# PGPORT, PGUSER for the connection (default: the local socket as the current user).
set -euo pipefail
umask 077

database=${EDIARY_BACKUP_DATABASE:-ediary}
dir=${EDIARY_BACKUP_DIR:-/var/backups/ediary}
keep_days=${EDIARY_BACKUP_KEEP_DAYS:-14}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$dir/$database-$stamp.dump"
partial="$final.partial"
scratch="${database}_restore_check_$$"

log() { echo "ediary-backup: $*" >&2; }

mkdir -p "$dir"
psql_q() { psql -X -v ON_ERROR_STOP=1 -q -A -t "$@"; }

# Row counts of every table of the public schema, one "table count" per line, sorted.
# shellcheck disable=SC2016  # the $$ quoting is SQL's, not the shell's
COUNT_SQL='SELECT string_agg(format($$SELECT %L || $x$ $x$ || count(*) FROM %I.%I$$,
                                    table_name, table_schema, table_name),
                             $$ UNION ALL $$ ORDER BY table_name)
             FROM information_schema.tables
            WHERE table_schema = $$public$$ AND table_type = $$BASE TABLE$$'

cleanup() {
    rm -f "$partial"
    psql_q -d postgres -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null 2>&1 || true
    if [ -n "${session_pid:-}" ]; then
        kill "$session_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# 1. A session that holds a snapshot open, exports it, and counts the rows in it.
coproc session { psql -X -v ON_ERROR_STOP=1 -q -A -t -d "$database"; }
# shellcheck disable=SC2154  # bash sets session_PID for `coproc session`
session_pid=$session_PID
echo "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" >&"${session[1]}"
echo "SELECT pg_export_snapshot();" >&"${session[1]}"
read -r snapshot <&"${session[0]}"
{
    printf '%s\n' "SELECT coalesce(($COUNT_SQL), 'SELECT NULL WHERE false') AS query \\gset"
    printf '%s\n' ':query;' '\echo __counted__'
} >&"${session[1]}"
source_counts=""
while read -r line <&"${session[0]}"; do
    [ "$line" = __counted__ ] && break
    [ -n "$line" ] && source_counts+="$line"$'\n'
done
if [ -z "$snapshot" ]; then
    log "could not open a snapshot of $database"
    exit 1
fi

# 2. The dump, of exactly that snapshot.
pg_dump --format=custom --snapshot="$snapshot" --file="$partial" "$database"
echo "COMMIT;" >&"${session[1]}"
printf '%s\n' '\q' >&"${session[1]}"
wait "$session_pid" 2>/dev/null || true
session_pid=""

# 3. The restore check.
psql_q -d postgres -c "CREATE DATABASE \"$scratch\" TEMPLATE template0" >/dev/null
if ! pg_restore --exit-on-error --no-owner --no-privileges --dbname="$scratch" "$partial"; then
    log "restore check FAILED: $partial does not restore"
    exit 1
fi
restored_counts=$(psql_q -d "$scratch" <<SQL
SELECT coalesce(($COUNT_SQL), 'SELECT NULL WHERE false') AS query \gset
:query;
SQL
)
restored_counts=$(printf '%s\n' "$restored_counts" | sed '/^$/d')
if [ "$(printf '%s' "$source_counts" | sed '/^$/d')" != "$restored_counts" ]; then
    log "restore check FAILED: row counts differ between $database and its restored dump"
    diff <(printf '%s' "$source_counts" | sed '/^$/d') <(printf '%s\n' "$restored_counts") >&2 || true
    exit 1
fi
tables=$(printf '%s' "$restored_counts" | grep -c . || true)
if [ "$tables" = 0 ]; then
    log "restore check FAILED: $database has no tables (wrong database?)"
    exit 1
fi

mv "$partial" "$final"
log "backup $final verified: $tables tables restored with the same row counts"

# 4. Retention.
find "$dir" -maxdepth 1 -name "$database-*.dump" -mtime "+$keep_days" -print -delete \
    | sed 's/^/ediary-backup: deleted old backup /' >&2
