#!/bin/bash
# Turns a stock Debian 12 (or newer) computer into an ediary classroom kiosk.
#
#   sudo provisioning/kiosk/setup-kiosk.sh --server https://dziennik.gmina.pl --code ABCD-1234
#
# Idempotent: every step compares what is there with what should be there and changes only the
# difference, so a second run with the same arguments changes nothing (the tests check this file by
# file). Re-run it after changing an argument or updating the checkout. See provisioning/README.md.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FILES="$HERE/files"

AGENT_USER=ediary-kiosk            # runs the agent; owns the device credential
SCREEN_USER=ediary-screen          # the autologin user: cage + Chromium, nothing else
AGENT_STATE=/var/lib/ediary-kiosk  # the agent's outbox and credential (0700)
AGENT_PREFIX=/opt/ediary-kiosk     # the agent's virtualenv
CONFIG_DIR=/etc/ediary-kiosk
LIB_DIR=/usr/local/lib/ediary-kiosk
POLICY_DIR=/etc/chromium/policies/managed
UNIT_DIR=/etc/systemd/system
PACKAGES=(
    cage chromium fonts-dejavu-core
    python3 python3-venv ca-certificates
    systemd systemd-sysv libpam-systemd dbus
    systemd-timesyncd unattended-upgrades
)

server=""
code=""
port=8090
agent_source=$(cd "$HERE/../.." && pwd)
ntp_servers=""
timezone="Europe/Warsaw"
print_policy=0

usage() {
    cat <<EOF
usage: $0 --server URL [--code CODE] [options]

  --server URL          the ediary server, e.g. https://dziennik.gmina.pl (required)
  --code CODE           one-time enrollment code from the school administrator; needed once,
                        ignored when the kiosk is already enrolled
  --port N              loopback port of the kiosk agent (default 8090)
  --agent-source PATH   the ediary checkout or wheel to install the agent from
                        (default: the checkout this script is in)
  --ntp "A B"           time servers (default: Debian's pool)
  --timezone ZONE       default Europe/Warsaw
  --print-chromium-policy
                        print the managed Chromium policy for --port and exit
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
        --server) server=${2:?--server needs a URL}; shift 2 ;;
        --code) code=${2:?--code needs a value}; shift 2 ;;
        --port) port=${2:?--port needs a number}; shift 2 ;;
        --agent-source) agent_source=${2:?--agent-source needs a path}; shift 2 ;;
        --ntp) ntp_servers=${2:?--ntp needs servers}; shift 2 ;;
        --timezone) timezone=${2:?--timezone needs a zone}; shift 2 ;;
        --print-chromium-policy) print_policy=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 64 ;;
    esac
done

case "$port" in
    ''|*[!0-9]*) echo "--port must be a number" >&2; exit 64 ;;
esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
    echo "--port out of range" >&2; exit 64
fi
agent_origin="http://127.0.0.1:$port"
agent_url="$agent_origin/"

# Fills the placeholders of a template from provisioning/kiosk/ (none of the values holds a '|').
render() {
    sed -e "s|@AGENT_ORIGIN@|$agent_origin|g" \
        -e "s|@AGENT_URL@|$agent_url|g" \
        -e "s|@AGENT_PORT@|$port|g" \
        -e "s|@AGENT_USER@|$AGENT_USER|g" \
        -e "s|@SCREEN_USER@|$SCREEN_USER|g" \
        -e "s|@AGENT_STATE@|$AGENT_STATE|g" \
        -e "s|@AGENT_PREFIX@|$AGENT_PREFIX|g" \
        -e "s|@CONFIG_DIR@|$CONFIG_DIR|g" \
        -e "s|@LIB_DIR@|$LIB_DIR|g" \
        "$1"
}

if [ "$print_policy" = 1 ]; then
    render "$HERE/chromium-policy.json"
    exit 0
fi

if [ -z "$server" ]; then
    echo "--server is required" >&2; usage >&2; exit 64
fi
case "$server" in
    https://*|http://*) ;;
    *) echo "--server must be an http(s) URL" >&2; exit 64 ;;
esac
case "$server" in
    *[[:space:]\"\\\|]*) echo "--server must not contain spaces, quotes, backslashes or '|'" >&2; exit 64 ;;
esac
if [ "$(id -u)" != 0 ]; then
    echo "run as root (sudo $0 ...)" >&2; exit 77
fi

changes=0
note() { echo "changed: $*"; changes=$((changes + 1)); }

# systemd is running on a booted machine; in a chroot (an image being prepared) it is not, and the
# units are only enabled, to start at the next boot.
systemd_running() { [ -d /run/systemd/system ]; }

ensure_dir() {  # PATH MODE OWNER GROUP
    if [ ! -d "$1" ]; then
        install -d -m "$2" -o "$3" -g "$4" "$1"
        note "$1/"
        return
    fi
    ensure_attrs "$@"
}

ensure_attrs() {  # PATH MODE OWNER GROUP
    local want have
    want="$(printf '%o' "0$2") $3 $4"
    have=$(stat -c '%a %U %G' "$1")
    if [ "$have" != "$want" ]; then
        chown "$3:$4" "$1"
        chmod "$2" "$1"
        note "$1 ($have -> $want)"
    fi
}

# Writes stdin to PATH only when the content differs, then fixes mode and owner; sets `written`
# to 1 when the content changed. Called with `< file` or `< <(render ...)`, never at the end of a
# pipeline: a pipeline would run it in a subshell and lose the count of changes.
written=0
put() {  # PATH MODE OWNER GROUP < content
    local target=$1 tmp
    written=0
    tmp=$(mktemp)
    cat > "$tmp"
    if [ -f "$target" ] && cmp -s "$tmp" "$target"; then
        rm -f "$tmp"
        ensure_attrs "$@"
        return 0
    fi
    install -D -m "$2" -o "$3" -g "$4" "$tmp" "$target"
    rm -f "$tmp"
    note "$target"
    written=1
}

ensure_masked() {
    local unit state
    for unit in "$@"; do
        state=$(systemctl is-enabled "$unit" 2>/dev/null || true)
        if [ "$state" != masked ]; then
            systemctl mask --quiet "$unit"
            note "masked $unit"
        fi
    done
}

ensure_enabled() {
    local unit state
    for unit in "$@"; do
        state=$(systemctl is-enabled "$unit" 2>/dev/null || true)
        if [ "$state" != enabled ]; then
            systemctl enable --quiet "$unit"
            note "enabled $unit"
        fi
    done
}

# --- packages ---------------------------------------------------------------------------------
missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # No recommends: every package on a kiosk is one more thing a pupil could find a way into.
    apt-get install -y --no-install-recommends "${missing[@]}"
    note "installed ${missing[*]}"
fi
if ! grep -rqsE '^[^#]*(-security|/debian-security)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    echo "warning: no Debian security suite in the apt sources: unattended upgrades will find no security updates" >&2
fi

# --- users ------------------------------------------------------------------------------------
ensure_user() {  # NAME HOME
    if ! getent passwd "$1" >/dev/null; then
        # A system user with its own group, no password (locked), no login shell.
        useradd --system --user-group --home-dir "$2" --no-create-home \
            --shell /usr/sbin/nologin --comment "ediary kiosk ($1)" "$1"
        note "user $1"
    fi
    if [ "$(getent passwd "$1" | cut -d: -f7)" != /usr/sbin/nologin ]; then
        usermod --shell /usr/sbin/nologin "$1"
        note "shell of $1"
    fi
    if [ "$(getent passwd "$1" | cut -d: -f6)" != "$2" ]; then
        usermod --home "$2" "$1"
        note "home of $1"
    fi
    local group
    for group in sudo adm wheel staff disk; do
        if id -nG "$1" | tr ' ' '\n' | grep -qx "$group"; then
            gpasswd --delete "$1" "$group" >/dev/null
            note "$1 removed from $group"
        fi
    done
}
ensure_user "$AGENT_USER" "$AGENT_STATE"
# The screen user's home is a runtime directory that systemd empties at every start of the screen.
ensure_user "$SCREEN_USER" "/run/$SCREEN_USER"

# --- the agent --------------------------------------------------------------------------------
ensure_dir "$CONFIG_DIR" 0755 root root
ensure_dir "$AGENT_STATE" 0700 "$AGENT_USER" "$AGENT_USER"
ensure_dir "$AGENT_PREFIX" 0755 root root
ensure_dir "$LIB_DIR" 0755 root root

agent_changed=0
put "$CONFIG_DIR/kiosk.toml" 0640 root "$AGENT_USER" \
    < <(render "$FILES/kiosk.toml" | sed -e "s|@SERVER@|$server|g")
[ "$written" = 0 ] || agent_changed=1

if [ ! -x "$AGENT_PREFIX/venv/bin/python" ]; then
    python3 -m venv "$AGENT_PREFIX/venv"
    note "$AGENT_PREFIX/venv"
fi
# pip reinstalls a source tree every time it is asked, so the install is keyed on a fingerprint of
# what would be installed, and skipped when nothing in it changed.
fingerprint() {
    if [ -d "$1" ]; then
        (cd "$1" && find pyproject.toml kiosk ediary -type f ! -name '*.pyc' ! -path '*/__pycache__/*' \
            -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
    else
        sha256sum "$1" | cut -d' ' -f1
    fi
}
wanted=$(fingerprint "$agent_source")
if [ "$(cat "$AGENT_PREFIX/installed-from" 2>/dev/null || true)" != "$wanted" ]; then
    "$AGENT_PREFIX/venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
        "${agent_source}[kiosk]"
    echo "$wanted" > "$AGENT_PREFIX/installed-from"
    note "agent installed from $agent_source"
    agent_changed=1
fi

# --- Chromium lockdown ------------------------------------------------------------------------
ensure_dir /etc/chromium 0755 root root
ensure_dir /etc/chromium/policies 0755 root root
ensure_dir "$POLICY_DIR" 0755 root root
put "$POLICY_DIR/ediary-kiosk.json" 0644 root root < <(render "$HERE/chromium-policy.json")
put "$LIB_DIR/kiosk-browser" 0755 root root < <(render "$FILES/kiosk-browser")

# --- units ------------------------------------------------------------------------------------
units_changed=0
for unit in ediary-kiosk-agent.service ediary-kiosk-screen.service; do
    put "$UNIT_DIR/$unit" 0644 root root < <(render "$FILES/$unit")
    [ "$written" = 0 ] || units_changed=1
done
put /etc/pam.d/ediary-kiosk-screen 0644 root root < "$FILES/pam-ediary-kiosk-screen"

# --- the ways out -----------------------------------------------------------------------------
put /etc/systemd/logind.conf.d/ediary-kiosk.conf 0644 root root < "$FILES/logind.conf"
put /etc/sysctl.d/60-ediary-kiosk.conf 0644 root root < "$FILES/sysctl.conf"
put /etc/modprobe.d/ediary-kiosk.conf 0644 root root < "$FILES/modprobe.conf"
put /etc/default/grub.d/ediary-kiosk.cfg 0644 root root < "$FILES/grub.cfg"
if [ "$written" = 1 ] && command -v update-grub >/dev/null && [ -d /boot/grub ]; then
    update-grub
fi
# No text console for anyone: the screen owns tty1, and no getty is started on any other.
ensure_masked getty@.service autovt@.service ctrl-alt-del.target \
    sleep.target suspend.target hibernate.target hybrid-sleep.target

# --- updates, time, watchdog ------------------------------------------------------------------
put /etc/apt/apt.conf.d/20auto-upgrades 0644 root root < "$FILES/20auto-upgrades"
put /etc/apt/apt.conf.d/52ediary-kiosk-unattended-upgrades 0644 root root \
    < "$FILES/52ediary-kiosk-unattended-upgrades"
timesyncd_conf() {
    echo "# Written by ediary's setup-kiosk.sh: entries carry the kiosk's time."
    echo "[Time]"
    if [ -n "$ntp_servers" ]; then echo "NTP=$ntp_servers"; fi
}
put /etc/systemd/timesyncd.conf.d/ediary-kiosk.conf 0644 root root < <(timesyncd_conf)
put /etc/systemd/system.conf.d/ediary-kiosk-watchdog.conf 0644 root root < "$FILES/watchdog.conf"
if [ ! -e "/usr/share/zoneinfo/$timezone" ]; then
    echo "unknown time zone: $timezone" >&2; exit 64
fi
if [ "$(readlink /etc/localtime || true)" != "/usr/share/zoneinfo/$timezone" ]; then
    ln -sfn "/usr/share/zoneinfo/$timezone" /etc/localtime
    note "/etc/localtime -> $timezone"
fi
put /etc/timezone 0644 root root <<< "$timezone"

# --- enable -----------------------------------------------------------------------------------
if systemd_running && [ "$units_changed" = 1 ]; then
    systemctl daemon-reload
fi
ensure_enabled ediary-kiosk-agent.service ediary-kiosk-screen.service systemd-timesyncd.service
if [ "$(systemctl get-default)" != graphical.target ]; then
    systemctl set-default --quiet graphical.target
    note "default target graphical.target"
fi

# --- enrollment -------------------------------------------------------------------------------
credential="$AGENT_STATE/credential.json"
if [ -f "$credential" ]; then
    if [ -n "$code" ]; then
        echo "already enrolled ($credential exists): --code ignored; to enroll again, revoke the kiosk on the server and delete that file" >&2
    fi
elif [ -n "$code" ]; then
    # As the agent's own user, so that the credential is never owned by anyone else.
    if ! (cd "$AGENT_STATE" && runuser -u "$AGENT_USER" -- env -i PATH=/usr/bin:/bin \
            HOME="$AGENT_STATE" EDIARY_KIOSK_CONFIG="$CONFIG_DIR/kiosk.toml" \
            "$AGENT_PREFIX/venv/bin/python" -m kiosk enroll --server "$server" --code "$code"); then
        echo "enrollment failed: ask the school administrator for a new code and re-run" >&2
        exit 2
    fi
    note "enrolled with $server"
    agent_changed=1
else
    echo "warning: not enrolled yet: re-run with --code CODE" >&2
fi
if [ -f "$credential" ]; then
    ensure_attrs "$credential" 0600 "$AGENT_USER" "$AGENT_USER"
fi

if systemd_running; then
    if [ "$agent_changed" = 1 ] || [ "$units_changed" = 1 ]; then
        systemctl restart ediary-kiosk-agent.service
    else
        systemctl start ediary-kiosk-agent.service
    fi
    # The screen takes tty1 from whoever is logged in there (perhaps the person running this
    # script): it starts at the next boot, and is only restarted here when it already runs.
    if [ "$units_changed" = 1 ] && systemctl is-active --quiet ediary-kiosk-screen.service; then
        systemctl restart ediary-kiosk-screen.service
    fi
fi

if [ "$changes" = 0 ]; then
    echo "nothing changed"
else
    echo "$changes change(s); reboot to start the kiosk screen and apply the kernel, login and watchdog settings"
fi
