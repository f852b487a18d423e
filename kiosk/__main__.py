"""`python -m kiosk enroll --server URL --code CODE` and `python -m kiosk run`.

Exit status of `enroll`: 0 enrolled, 2 refused by the server (wrong, used or expired code),
3 server unreachable, 4 bad configuration. `run`: 4 when its port is in use. `status`: 2 when the
state directory does not exist.
"""

from __future__ import annotations

import argparse
import datetime as dt
import errno
import json
import logging
import os
import pwd
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import requests

from kiosk import credential as credentials
from kiosk import protocol
from kiosk.config import Config, ConfigError, load

AGENT_USER = "ediary-kiosk"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kiosk", description="ediary classroom kiosk")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", type=Path, help="TOML file (default /etc/ediary-kiosk/kiosk.toml)"
    )
    common.add_argument("--state-dir", type=Path, help="default /var/lib/ediary-kiosk")
    common.add_argument(
        "--server", help="the ediary server's base URL, e.g. https://dziennik.gmina.pl"
    )
    common.add_argument("--ca-file", help="CA bundle to verify the server's certificate")
    common.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    enroll = commands.add_parser("enroll", parents=[common], help="exchange a one-time code")
    enroll.add_argument("--code", required=True, help="the one-time enrollment code")
    enroll.add_argument("--owner", help="system user to own the credential (when run as root)")

    run = commands.add_parser("run", parents=[common], help="serve the kiosk screens")
    run.add_argument("--host", help="loopback address to serve on (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="default 8090")
    run.add_argument(
        "--idle-lock",
        type=float,
        dest="idle_lock_seconds",
        help="seconds without input before the screen locks (default 180)",
    )
    run.add_argument(
        "--lesson-end-grace",
        type=float,
        dest="lesson_end_grace_seconds",
        help="seconds after the end of the lesson before it locks (default 300)",
    )

    commands.add_parser("status", parents=[common], help="enrollment and outbox, as text")
    return parser


def _config(args: argparse.Namespace) -> Config:
    overrides = {
        name: getattr(args, name, None)
        for name in (
            "state_dir",
            "server",
            "ca_file",
            "host",
            "port",
            "idle_lock_seconds",
            "lesson_end_grace_seconds",
            "owner",
        )
    }
    return load(args.config, **overrides)


def enroll(config: Config, code: str) -> int:
    if not config.server:
        print("enroll: --server is required", file=sys.stderr)
        return 4
    url = config.server.rstrip("/") + protocol.ENROLL_PATH
    try:
        response = requests.post(
            url,
            json={"code": code},
            timeout=config.connect_timeout_seconds,
            verify=config.ca_file or True,
        )
    except requests.RequestException as error:
        print(f"enroll: the server cannot be reached: {error}", file=sys.stderr)
        return 3
    try:
        data: dict[str, Any] = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or not data.get("ok", True) or "secret" not in data:
        message = data.get("message") or data.get("error") or f"HTTP {response.status_code}"
        print(f"enroll: refused: {message}", file=sys.stderr)
        return 2
    credential = credentials.Credential(
        kiosk_id=int(data["kiosk_id"]),
        secret=str(data["secret"]),
        server=config.server.rstrip("/"),
        room=protocol.name_of(data.get("room")),
        school=protocol.name_of(data.get("school")),
        enrolled_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    path = credentials.save(config.state_dir, credential, owner=_owner(config))
    print(
        json.dumps({"enrolled": credential.public(), "credential": str(path)}, ensure_ascii=False)
    )
    return 0


def _owner(config: Config) -> str | None:
    if config.owner or os.geteuid() != 0:
        return config.owner
    try:
        pwd.getpwnam(AGENT_USER)
    except KeyError:
        return None
    return AGENT_USER


def _port_in_use(host: str, port: int) -> bool:
    """Whether another program listens there (asked before anything starts; waitress binds with
    SO_REUSEADDR too, so a port merely in TIME_WAIT is not "in use")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def run(config: Config) -> int:
    from kiosk.agent import Agent
    from kiosk.server import serve

    if _port_in_use(config.host, config.port):
        print(
            f"run: {config.host}:{config.port} is in use (another kiosk agent running?); "
            "stop it or choose another --port",
            file=sys.stderr,
        )
        return 4

    def stop(_signum: int, _frame: Any) -> None:
        # Once: a second signal (Ctrl+C and then the demo's SIGTERM) must not cut the cleanup.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(0)

    # SIGINT too, explicitly: a process started in the background inherits SIGINT ignored, and
    # then Ctrl+C (or the demo's stop) would leave the agent running on its port.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent = Agent(config)
    agent.start()
    print(f"kiosk screens on {config.origin}/", flush=True)
    try:
        serve(agent)
    finally:
        agent.stop()
    return 0


def status(config: Config) -> int:
    from kiosk.outbox import Outbox

    if not config.state_dir.exists():
        print(
            f"status: {config.state_dir} does not exist; no kiosk is enrolled there",
            file=sys.stderr,
        )
        return 2
    if not config.state_dir.is_dir():
        print(f"status: {config.state_dir} is not a directory", file=sys.stderr)
        return 2
    credential = credentials.load(config.state_dir)
    outbox = Outbox(config.state_dir / "kiosk.db")
    try:
        report = {
            "enrolled": credential.public() if credential else None,
            "outbox": outbox.counts(),
            "oldest_unsent": outbox.oldest_unsent_at(),
        }
    finally:
        outbox.close()
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        config = _config(args)
    except ConfigError as error:
        print(f"configuration: {error}", file=sys.stderr)
        return 4
    if args.command == "enroll":
        return enroll(config, args.code)
    if args.command == "run":
        return run(config)
    return status(config)


if __name__ == "__main__":
    sys.exit(main())
