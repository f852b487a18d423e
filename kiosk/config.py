"""Settings: defaults < /etc/ediary-kiosk/kiosk.toml < EDIARY_KIOSK_* variables < command line."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = Path("/etc/ediary-kiosk/kiosk.toml")
DEFAULT_STATE_DIR = Path("/var/lib/ediary-kiosk")
ENV_PREFIX = "EDIARY_KIOSK_"


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    # The server's base URL; enrollment stores it with the credential, so `run` may omit it.
    server: str | None = None
    state_dir: Path = DEFAULT_STATE_DIR
    # The screens are served on loopback only; anything else is refused at start.
    host: str = "127.0.0.1"
    port: int = 8090
    # Lock after this long without a tap or a key on the screen.
    idle_lock_seconds: float = 180.0
    # Lock this long after the bell that ends the open lesson (time to finish the entries).
    lesson_end_grace_seconds: float = 300.0
    # NIST SP 800-63B AAL2: a full login at least every 12 hours; the day's PIN ends with it.
    hard_logout_hours: float = 12.0
    # Wrong PINs before a full login is required again (the server's rule is 3 as well).
    pin_attempts: int = 3
    call_timeout_seconds: float = 10.0
    connect_timeout_seconds: float = 10.0
    # The longest wait between retries (full jitter below it). 10 s, not more: a classroom's
    # entries should reach the server within seconds of its return (the district drill measured
    # 47 s after a PostgreSQL restart with 30 s), and 94 kiosks retrying every few seconds are
    # nothing to a server.
    retry_max_seconds: float = 10.0
    # The `heartbeat` to the server (version, outbox, teacher): the fleet pages' report.
    heartbeat_seconds: float = 30.0
    # A CA bundle to verify the server's TLS certificate (pinned school CA); None: system store.
    ca_file: str | None = None
    # The server's Socket.IO path for kiosks (docs/protocol.md): nginx sends it to the kiosks'
    # own server processes, so that parents reconnecting in thousands never queue a kiosk; a
    # single server process (the demo) answers it too.
    socketio_path: str = "kiosk/socket.io"
    # The system user that must own the credential when enrollment runs as root (default: the
    # agent's user `ediary-kiosk` if it exists).
    owner: str | None = None
    max_body_bytes: int = 64 * 1024
    timezone: str = "Europe/Warsaw"

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def netloc(self) -> str:
        return self.origin.removeprefix("http://")

    def validated(self) -> Config:
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError as error:
            raise ConfigError(f"host must be a loopback IP address, not {self.host!r}") from error
        if not address.is_loopback:
            raise ConfigError(f"host must be a loopback address, not {self.host}")
        if not 0 < self.port < 65536:
            raise ConfigError(f"port out of range: {self.port}")
        if self.idle_lock_seconds <= 0 or self.hard_logout_hours <= 0 or self.pin_attempts < 1:
            raise ConfigError(
                "idle_lock_seconds, hard_logout_hours and pin_attempts must be positive"
            )
        if not self.socketio_path.strip("/") or "?" in self.socketio_path:
            raise ConfigError(f"socketio_path must be a URL path, not {self.socketio_path!r}")
        if self.server is not None and not self.server.startswith(("http://", "https://")):
            raise ConfigError(f"server must be an http(s) URL, not {self.server!r}")
        return self


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Config)}[name]
    if value is None:
        return None
    if kind == "Path":
        return Path(value)
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return str(value)


def load(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Config:
    env = os.environ if environ is None else environ
    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}

    path = config_file or Path(env.get(f"{ENV_PREFIX}CONFIG", DEFAULT_CONFIG_FILE))
    if path.exists():
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        table = data.get("kiosk", data)
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
        values.update({k: _coerce(k, v) for k, v in table.items()})
    elif config_file is not None:
        raise ConfigError(f"no such configuration file: {config_file}")

    for name in known:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            values[name] = _coerce(name, raw)
    values.update({k: _coerce(k, v) for k, v in overrides.items() if v is not None})
    return replace(Config(), **values).validated()
