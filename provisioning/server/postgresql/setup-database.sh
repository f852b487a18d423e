#!/bin/bash
# Creates ediary's database and its two roles, least privilege first. Idempotent. Run as the
# PostgreSQL superuser, e.g.:
#
#   sudo -u postgres EDIARY_DB_PASSWORD='...' provisioning/server/postgresql/setup-database.sh
#
#   <owner> (NOLOGIN)  owns the database, the schema and every table: migrations run as it
#                      (`SET ROLE`, see README), never the application.
#   <app>   (LOGIN)    the server processes: connect, read and write rows, use sequences; cannot
#                      create, alter or drop anything, nor read other databases.
# Connection: the usual libpq variables (PGHOST, PGPORT, PGUSER); default the local socket.
set -euo pipefail

database=ediary
app_role=ediary
owner_role=ediary_owner

while [ $# -gt 0 ]; do
    case "$1" in
        --database) database=${2:?}; shift 2 ;;
        --app-role) app_role=${2:?}; shift 2 ;;
        --owner-role) owner_role=${2:?}; shift 2 ;;
        -h|--help) echo "usage: $0 [--database NAME] [--app-role NAME] [--owner-role NAME]"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 64 ;;
    esac
done
for name in "$database" "$app_role" "$owner_role"; do
    case "$name" in
        ''|*[!a-z0-9_]*) echo "names are lower-case letters, digits and _: $name" >&2; exit 64 ;;
    esac
done
if [ -z "${EDIARY_DB_PASSWORD:-}" ]; then
    echo "set EDIARY_DB_PASSWORD to the application role's password" >&2
    exit 64
fi

run() { psql -X -v ON_ERROR_STOP=1 -q "$@"; }

# The password travels as a psql variable, quoted by psql (:'password'), never in a command line.
run -d postgres -v password="$EDIARY_DB_PASSWORD" <<SQL
SELECT format('CREATE ROLE %I NOLOGIN', '$owner_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$owner_role') \gexec
SELECT format('CREATE ROLE %I LOGIN', '$app_role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$app_role') \gexec
ALTER ROLE "$app_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    NOINHERIT PASSWORD :'password';
ALTER ROLE "$owner_role" NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L TEMPLATE template0',
              '$database', '$owner_role', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database') \gexec
REVOKE ALL ON DATABASE "$database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE "$database" TO "$app_role";
SQL

run -d "$database" <<SQL
ALTER SCHEMA public OWNER TO "$owner_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO "$app_role";
-- Tables the owner creates from now on (migrations), and those it already has.
ALTER DEFAULT PRIVILEGES FOR ROLE "$owner_role" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "$app_role";
ALTER DEFAULT PRIVILEGES FOR ROLE "$owner_role" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO "$app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "$app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "$app_role";
SQL
echo "database $database: owner $owner_role, application role $app_role"
