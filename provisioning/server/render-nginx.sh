#!/bin/bash
# Prints ediary's nginx site for the given server name and process ports (--ports: the
# ediary-server@ processes for people; --kiosk-ports: the ediary-kiosk-server@ processes):
#
#   provisioning/server/render-nginx.sh --server-name dziennik.gmina.pl --ports 8001,8002 \
#       --kiosk-ports 8101,8102 \
#       --cert /etc/letsencrypt/live/dziennik.gmina.pl/fullchain.pem \
#       --key /etc/letsencrypt/live/dziennik.gmina.pl/privkey.pem > /etc/nginx/sites-available/ediary
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
server_name=""
ports=""
kiosk_ports=""
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
usage: $0 --server-name NAME --ports P1,P2,... --kiosk-ports K1,K2,... --cert FILE --key FILE [options]
  --ports             the processes for people (ediary-server@PORT)
  --kiosk-ports       the processes for kiosks (ediary-kiosk-server@PORT); a site whose processes
                      serve both (EDIARY_SOCKETS=all) gives the same ports twice
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
        --kiosk-ports) kiosk_ports=${2:?}; shift 2 ;;
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
if [ -z "$server_name" ] || [ -z "$ports" ] || [ -z "$kiosk_ports" ] || [ -z "$cert" ] \
    || [ -z "$key" ]; then
    usage >&2; exit 64
fi

# Never marked down (max_fails=0): a request that fails on one process goes on to the next
# (proxy_next_upstream), and a process that restarts is tried again at once. Marking down
# (max_fails=1) made both processes "unavailable" for 10 s whenever one error hit each during the
# reconnect storm after a process died: every client then got 502.
upstream_servers() {
    local port list
    IFS=, read -r -a list <<< "$1"
    for port in "${list[@]}"; do
        case "$port" in
            ''|*[!0-9]*) echo "not a port: $port" >&2; exit 64 ;;
        esac
        printf '    server 127.0.0.1:%s max_fails=0;\n' "$port"
    done
}
servers=$(upstream_servers "$ports")
kiosk_servers=$(upstream_servers "$kiosk_ports")
listen_prefix=""
if [ -n "$listen" ]; then
    listen_prefix="$listen:"
fi

# Bash substitution with quoted replacements: the values are taken literally, whatever they hold.
while IFS= read -r line; do
    if [ "$line" = "@UPSTREAM_SERVERS@" ]; then
        printf '%s\n' "$servers"
        continue
    fi
    if [ "$line" = "@KIOSK_UPSTREAM_SERVERS@" ]; then
        printf '%s\n' "$kiosk_servers"
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
