#!/bin/bash
# Installs the Debian packages that tests/provisioning/ needs, as listed in
# provisioning/test-requirements-apt.txt; installs nothing when all are there. Run as root.
set -euo pipefail
list="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/test-requirements-apt.txt"
missing=()
while read -r package _; do
    case "$package" in ''|'#'*) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done < "$list"
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The nginx and redis packages would start their daemons on a machine with systemd; the tests
# start their own instances on free loopback ports and need none.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
