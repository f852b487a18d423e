#!/usr/bin/env bash
# Raises nginx's own connection limits for ediary. Every parent's phone keeps a WebSocket open,
# and nginx holds two connections for each (the phone's and the server process's). Debian's
# nginx.conf allows 768 connections per worker and 1,024 open files: a few hundred phones at
# most. A district wants about 10,000 sockets (bench/README.md, the "hold" phase).
#
#   sudo provisioning/server/nginx/tune-nginx.sh                 # /etc/nginx, then: nginx -t
#   provisioning/server/nginx/tune-nginx.sh --conf-dir DIR       # another copy (the tests)
#
# Idempotent: it sets the numbers, whatever they were.
set -euo pipefail

conf_dir=/etc/nginx
connections=20000
open_files=65536

while [ $# -gt 0 ]; do
    case "$1" in
        --conf-dir) conf_dir=${2:?--conf-dir needs a directory}; shift 2 ;;
        *) echo "usage: $0 [--conf-dir /etc/nginx]" >&2; exit 64 ;;
    esac
done

main="$conf_dir/nginx.conf"
if ! grep -Eq '^[[:space:]]*worker_connections[[:space:]]+[0-9]+;' "$main"; then
    echo "no worker_connections line in $main: set it to $connections by hand" >&2
    exit 1
fi
sed -i -E "s/^([[:space:]]*worker_connections[[:space:]]+)[0-9]+;/\\1$connections;/" "$main"

# worker_rlimit_nofile belongs to the main context; Debian's nginx.conf includes
# modules-enabled/*.conf there (and nothing else), so the setting goes in a file of its own.
mkdir -p "$conf_dir/modules-enabled"
printf '# ediary: open files for %s connections per worker (tune-nginx.sh)\nworker_rlimit_nofile %s;\n' \
    "$connections" "$open_files" > "$conf_dir/modules-enabled/90-ediary-limits.conf"
echo "nginx: worker_connections $connections, worker_rlimit_nofile $open_files in $conf_dir"
