#!/bin/bash
# Prints ediary's nginx site for the given server name and process ports:
#
#   provisioning/server/render-nginx.sh --server-name dziennik.gmina.pl --ports 8001,8002 \
#       --cert /etc/letsencrypt/live/dziennik.gmina.pl/fullchain.pem \
#       --key /etc/letsencrypt/live/dziennik.gmina.pl/privkey.pem > /etc/nginx/sites-available/ediary
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
server_name=""
ports=""
cert=""
key=""
static_root=/opt/ediary/src/static
listen=""
http_port=80
https_port=443
max_body=13m
access_log=/var/log/nginx/ediary-access.log

usage() {
    cat <<USAGE
usage: $0 --server-name NAME --ports P1,P2,... --cert FILE --key FILE [options]
  --static DIR        the checkout's static/ (default $static_root)
  --listen ADDR       listen on this address only (default: all)
  --http-port N       default 80
  --https-port N      default 443
  --max-body SIZE     request body limit (default $max_body)
  --access-log FILE   default $access_log
USAGE
}

while [ $# -gt 0 ]; do
    case "$1" in
        --server-name) server_name=${2:?}; shift 2 ;;
        --ports) ports=${2:?}; shift 2 ;;
        --cert) cert=${2:?}; shift 2 ;;
        --key) key=${2:?}; shift 2 ;;
        --static) static_root=${2:?}; shift 2 ;;
        --listen) listen=${2:?}; shift 2 ;;
        --http-port) http_port=${2:?}; shift 2 ;;
        --https-port) https_port=${2:?}; shift 2 ;;
        --max-body) max_body=${2:?}; shift 2 ;;
        --access-log) access_log=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 64 ;;
    esac
done
if [ -z "$server_name" ] || [ -z "$ports" ] || [ -z "$cert" ] || [ -z "$key" ]; then
    usage >&2; exit 64
fi

servers=""
IFS=, read -r -a port_list <<< "$ports"
for port in "${port_list[@]}"; do
    case "$port" in
        ''|*[!0-9]*) echo "not a port: $port" >&2; exit 64 ;;
    esac
    # Never marked down (max_fails=0): a request that fails on one process goes on to the next
    # (proxy_next_upstream), and a process that restarts is tried again at once. Marking down
    # (max_fails=1) made both processes "unavailable" for 10 s whenever one error hit each
    # during the reconnect storm after a process died: every client then got 502.
    servers+="    server 127.0.0.1:$port max_fails=0;"$'\n'
done
listen_prefix=""
if [ -n "$listen" ]; then
    listen_prefix="$listen:"
fi

# Bash substitution with quoted replacements: the values are taken literally, whatever they hold.
while IFS= read -r line; do
    if [ "$line" = "@UPSTREAM_SERVERS@" ]; then
        printf '%s' "$servers"
        continue
    fi
    line=${line//@SERVER_NAME@/"$server_name"}
    line=${line//@TLS_CERT@/"$cert"}
    line=${line//@TLS_KEY@/"$key"}
    line=${line//@STATIC_ROOT@/"${static_root%/}"}
    line=${line//@LISTEN@/"$listen_prefix"}
    line=${line//@HTTP_PORT@/"$http_port"}
    line=${line//@HTTPS_PORT@/"$https_port"}
    line=${line//@MAX_BODY@/"$max_body"}
    line=${line//@ACCESS_LOG@/"$access_log"}
    printf '%s\n' "$line"
done < "$here/nginx/ediary.conf.template"
